//! Seeds the `decode` corpus: writes the emitted octets of every sample
//! frame (`wire::samples::all()`) to `corpus/decode/<name>`, next to this
//! file whatever the working directory.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/decode");
    std::fs::create_dir_all(&dir)?;
    let samples = wire::samples::all();
    for s in &samples {
        std::fs::write(dir.join(s.name), s.frame.emit())?;
    }
    println!("wrote {} seeds to {}", samples.len(), dir.display());
    Ok(())
}
