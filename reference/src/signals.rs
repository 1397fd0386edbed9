//! SIGTERM / SIGINT as an event of the core loop: the signals are blocked
//! in every thread and one thread waits for them with sigwait(2).

use std::io;
use std::mem::zeroed;
use std::sync::mpsc::Sender;
use std::thread;

fn term_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain old data; the sig* calls only write it.
    unsafe {
        let mut set: libc::sigset_t = zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        set
    }
}

/// Block SIGTERM and SIGINT in the calling thread (call it before any
/// other thread starts, so they all inherit the mask) and start a thread
/// that sends `event()` into `tx` when one arrives.
pub fn watch<E: Send + 'static>(tx: Sender<E>, event: fn() -> E) -> io::Result<()> {
    let set = term_set();
    // SAFETY: valid sigset; a null old-set pointer is allowed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || loop {
            let mut sig: libc::c_int = 0;
            // SAFETY: valid sigset and out-pointer.
            if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                let _ = tx.send(event());
                return;
            }
        })?;
    Ok(())
}
