//! The `run`, `list`, `explain`, `coverage`, `lint` and `schema`
//! subcommands.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use clap::Args;
use hmip6spec::case::Case;
use hmip6spec::coverage::Coverage;
use hmip6spec::engine::{self, Context, RunOptions};
use hmip6spec::profile::Profile;
use hmip6spec::report;
use hmip6spec::requirements::{Gate, Role};
use hmip6spec::suite::{parse_level, parse_shard, print_diagnostics, Filter, Suite};
use hmip6spec::topology::rootless;
use hmip6spec::verdict::{ProfileSummary, RunResults, Summary, Verdict, RESULTS_SCHEMA_VERSION};

/// Which cases.
#[derive(Args, Clone, Debug)]
pub struct SelectArgs {
    /// The cases directory (requirements.yaml, pics.yaml, <role>/*.yaml).
    #[arg(long, default_value = "cases")]
    pub cases: PathBuf,
    /// Only cases for this role (repeatable).
    #[arg(long)]
    pub role: Vec<Role>,
    /// Only cases whose ID matches this glob, e.g. 'map.bu.*' (repeatable).
    #[arg(long = "case")]
    pub case: Vec<String>,
    /// Only cases citing this requirement ID (repeatable).
    #[arg(long)]
    pub requirement: Vec<String>,
    /// Only cases citing a requirement of at least this level: MUST,
    /// SHOULD or MAY.
    #[arg(long, value_parser = parse_level)]
    pub level: Option<Gate>,
    /// Run only shard K of N (1-based), a deterministic partition for CI
    /// matrices.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,
}

impl SelectArgs {
    fn filter(&self) -> Filter {
        Filter {
            roles: self.role.clone(),
            ids: self.case.clone(),
            requirements: self.requirement.clone(),
            level: self.level,
            shard: self.shard,
        }
    }
}

#[derive(Args, Clone, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// The IUT profile.
    #[arg(long)]
    pub profile: PathBuf,
    /// Cases at once (default: twice the number of CPUs; cases mostly wait).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// SHOULD-level failures also make the IUT non-compliant.
    #[arg(long)]
    pub strict: bool,
    /// Where reports go (a folder per run inside).
    #[arg(long, default_value = "reports")]
    pub reports: PathBuf,
    /// Where captures go (a folder per run inside).
    #[arg(long, default_value = "captures")]
    pub captures: PathBuf,
    /// The run's ID (default: the UTC time and the process ID).
    #[arg(long)]
    pub run_id: Option<String>,
    /// Print nothing per case, only the summary.
    #[arg(short, long)]
    pub quiet: bool,
}

fn load_suite(dir: &Path) -> Result<Suite, ExitCode> {
    let suite = Suite::load(dir);
    if let Ok(s) = &suite {
        print_diagnostics(&s.warnings);
    }
    suite.map_err(|d| {
        print_diagnostics(&d);
        eprintln!(
            "hmip6spec: {} problem(s) in the cases; nothing was run",
            d.len()
        );
        ExitCode::from(2)
    })
}

fn run_id() -> String {
    let t = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let compact: String = t.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!("{compact}-{}", std::process::id())
}

fn uname() -> (String, String) {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    (
        read("/proc/sys/kernel/hostname"),
        format!("Linux {}", read("/proc/sys/kernel/osrelease")),
    )
}

pub fn run(args: RunArgs) -> ExitCode {
    // An attached IUT is wired to interfaces of this network namespace: a
    // namespace of our own would hide them, so no rootless re-exec then.
    let attached = hmip6spec::profile::load(&args.profile)
        .is_ok_and(|p| p.profile.attach.is_some() && p.profile.launch.is_none());
    if attached && !rootless::has_net_privileges() {
        eprintln!(
            "hmip6spec run: an attached IUT needs root (CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYS_ADMIN) \
             on this host: the rootless mode runs in a network namespace of its own, without \
             the host's interfaces"
        );
        return ExitCode::from(2);
    }
    // Without root, continue inside a user + network namespace where the
    // kernel allows it (DESIGN.md, "Topologies").
    let privileged = if attached {
        Ok(())
    } else {
        rootless::reexec_if_needed()
    };
    if let Err(e) = privileged {
        eprintln!("hmip6spec run: cannot get the privileges to build topologies: {e}");
        eprintln!("hmip6spec run: run as root, or see `hmip6spec doctor`");
        return ExitCode::from(2);
    }
    let suite = match load_suite(&args.select.cases) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let profile = match suite.load_profile(&args.profile) {
        Ok(p) => p,
        Err(d) => {
            print_diagnostics(&d);
            eprintln!(
                "hmip6spec run: the profile has {} problem(s); nothing was run",
                d.len()
            );
            return ExitCode::from(2);
        }
    };
    let selected: Vec<_> = match args.select.filter().select(&suite.cases, &suite.catalogue) {
        Ok(s) => s.into_iter().cloned().collect(),
        Err(e) => {
            eprintln!("hmip6spec run: {e}");
            return ExitCode::from(2);
        }
    };
    if selected.is_empty() {
        eprintln!("hmip6spec run: no case matches the filters");
        return ExitCode::from(2);
    }
    let id = args.run_id.clone().unwrap_or_else(run_id);
    let captures_dir = args.captures.join(&id);
    let reports_dir = args.reports.join(&id);
    if let Err(e) = std::fs::create_dir_all(&captures_dir) {
        eprintln!(
            "hmip6spec run: cannot create {}: {e}",
            captures_dir.display()
        );
        return ExitCode::from(2);
    }
    let jobs = args.jobs.unwrap_or_else(engine::default_jobs).max(1);
    let color = report::console::use_color(std::io::stdout().is_terminal());
    let ctx = Arc::new(Context {
        profile: profile.clone(),
        catalogue: suite.catalogue.clone(),
        parameters: suite.parameters.clone(),
        captures_dir: captures_dir.clone(),
    });
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let t0 = Instant::now();
    let total = selected.len();
    let bar = if std::io::stderr().is_terminal() && !args.quiet {
        let b = indicatif::ProgressBar::new(total as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} cases  {elapsed}  {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    // Cases that share an IUT (restart: per-run, attach) run one at a time.
    let mode = engine::Mode::of(&profile.profile);
    let pace = match mode {
        Some(m) if m.serial() => format!(
            "one at a time ({}{})",
            m.describe(),
            match args.jobs {
                Some(j) if j > 1 => format!("; -j {j} does not apply"),
                _ => String::new(),
            }
        ),
        _ => format!("{jobs} at once"),
    };
    let jobs = if mode.is_some_and(engine::Mode::serial) {
        1
    } else {
        jobs
    };
    eprintln!(
        "hmip6spec: {} case(s) against {} ({}), {}; run {}",
        total,
        profile.name(),
        profile.profile.role,
        pace,
        id
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hmip6spec run: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let quiet = args.quiet;
    let results = runtime.block_on(engine::run_cases(
        selected,
        ctx.clone(),
        RunOptions { jobs },
        |r| {
            let line = report::console::case_line(r, color);
            match &bar {
                Some(b) => {
                    b.println(line);
                    b.inc(1);
                }
                None if !quiet => println!("{line}"),
                None => {}
            }
        },
    ));
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let (hostname, kernel) = uname();
    let summary = Summary::of(&results, args.strict);
    let run = RunResults {
        schema_version: RESULTS_SCHEMA_VERSION,
        tool: "hmip6spec".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        run_id: id.clone(),
        started_at,
        duration_ms: t0.elapsed().as_millis() as u64,
        command: std::env::args().collect(),
        hostname,
        kernel,
        jobs,
        shard: args.select.shard.map(|(k, n)| format!("{k}/{n}")),
        profile: ProfileSummary {
            path: profile.path.clone(),
            name: profile.name(),
            role: profile.profile.role,
            pics: profile.profile.pics.clone(),
            pixit: profile.profile.pixit.clone(),
        },
        summary: summary.clone(),
        cases: results,
        captures_dir,
    };
    if !quiet {
        for c in run.cases.iter().filter(|c| {
            matches!(
                c.verdict,
                Verdict::Fail | Verdict::Error | Verdict::Inconclusive
            )
        }) {
            println!("{}", report::console::render_failure_details(c, color));
        }
    }
    let written = match report::write_all(&reports_dir, &run, Some(&suite.catalogue)) {
        Ok(w) => w,
        Err(e) => {
            eprintln!(
                "hmip6spec run: cannot write the reports in {}: {e}",
                reports_dir.display()
            );
            return ExitCode::from(2);
        }
    };
    println!("{}", report::console::render_summary(&run, color, &written));
    ExitCode::from(summary.exit_code() as u8)
}

pub fn list(select: &SelectArgs, profile: Option<&Path>) -> ExitCode {
    let suite = match load_suite(&select.cases) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let profile = match profile.map(|p| suite.load_profile(p)).transpose() {
        Ok(p) => p,
        Err(d) => {
            print_diagnostics(&d);
            return ExitCode::from(2);
        }
    };
    let cases = match select.filter().select(&suite.cases, &suite.catalogue) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hmip6spec list: {e}");
            return ExitCode::from(2);
        }
    };
    for c in &cases {
        let reqs: Vec<String> = c
            .case
            .requirements
            .iter()
            .map(|r| match suite.catalogue.get(r) {
                Some(q) => format!("{r} ({})", q.level),
                None => r.clone(),
            })
            .collect();
        let applies = match &profile {
            None => String::new(),
            Some(p) => match engine::applicability(&c.case, p) {
                Ok(()) => "  [applies]".into(),
                Err(why) => format!("  [not applicable: {why}]"),
            },
        };
        // Single-role cases read as before; the run's --role says theirs.
        let roles = if c.case.roles.len() > 1 {
            format!(" [{}]", c.case.roles.join(", "))
        } else {
            String::new()
        };
        println!("{}{roles}  {}{}", c.case.id, c.case.title, applies);
        println!("    {}  ({})", reqs.join(", "), c.path.display());
    }
    eprintln!("{} case(s)", cases.len());
    ExitCode::SUCCESS
}

pub fn explain(id: &str, dir: &Path) -> ExitCode {
    let suite = match load_suite(dir) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if let Some(r) = suite.catalogue.get(id) {
        println!(
            "{}  ({} section {}, {})",
            r.id,
            r.source.name(),
            r.section,
            r.level
        );
        println!();
        println!("  {}", r.quoted_text());
        println!();
        let roles: Vec<&str> = r.roles.iter().map(|x| x.name()).collect();
        println!("Binds: {}", roles.join(", "));
        match (&r.testable, &r.untestable_because) {
            (true, _) => println!("Testable on the wire."),
            (false, why) => println!(
                "Not testable on the wire: {}",
                why.clone().unwrap_or_default()
            ),
        }
        let cases: Vec<&str> = suite
            .cases
            .iter()
            .filter(|c| c.case.requirements.iter().any(|x| x == id))
            .map(|c| c.case.id.as_str())
            .collect();
        if cases.is_empty() {
            println!("No case checks it.");
        } else {
            println!("Checked by: {}", cases.join(", "));
        }
        return ExitCode::SUCCESS;
    }
    if let Some(c) = suite.cases.iter().find(|c| c.case.id == id) {
        print!("{}", explain_case(&c.case, &suite));
        println!("File: {}", c.path.display());
        return ExitCode::SUCCESS;
    }
    eprintln!("hmip6spec explain: {id:?} is neither a requirement ID nor a case ID");
    let near = suite.catalogue.similar(id);
    if !near.is_empty() {
        eprintln!("did you mean {}?", near.join(" or "));
    }
    ExitCode::from(2)
}

fn explain_case(c: &Case, suite: &Suite) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "{}: {}", c.id, c.title);
    if let Some(d) = &c.description {
        let _ = writeln!(s, "\n  {}\n", d.trim());
    }
    let _ = writeln!(s, "Tests a {}.", c.roles);
    for r in &c.requirements {
        match suite.catalogue.get(r) {
            Some(q) => {
                let _ = writeln!(
                    s,
                    "Checks {r} ({}, {} {}): {}",
                    q.level,
                    q.source.name(),
                    q.section,
                    q.quoted_text()
                );
            }
            None => {
                let _ = writeln!(s, "Checks {r}");
            }
        }
    }
    if !c.pics.is_empty() {
        let p: Vec<String> = c.pics.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        let _ = writeln!(s, "Applies when the IUT claims: {}", p.join(", "));
    }
    let links: Vec<&str> = c.topology.links.iter().map(|l| l.name()).collect();
    let nodes: Vec<&str> = c.topology.nodes.keys().map(String::as_str).collect();
    let _ = writeln!(
        s,
        "Links: {}; emulated nodes: {}",
        links.join(", "),
        if nodes.is_empty() {
            "none".into()
        } else {
            nodes.join(", ")
        }
    );
    let _ = writeln!(s, "Steps:");
    fn steps(s: &mut String, list: &[hmip6spec::case::Step], indent: &str) {
        use hmip6spec::case::Step;
        for (i, st) in list.iter().enumerate() {
            let line = match st {
                Step::Send(x) => format!(
                    "send{}: {}",
                    x.from
                        .as_deref()
                        .map(|f| format!(" from {f}"))
                        .unwrap_or_default(),
                    x.note.clone().unwrap_or_else(|| engine::summarize(
                        &serde_json::to_value(x).unwrap_or_default()
                    ))
                ),
                Step::Expect(x) | Step::ExpectNone(x) => format!(
                    "{}{}: {}{}",
                    st.kind(),
                    x.on.as_deref()
                        .map(|l| format!(" on {l}"))
                        .unwrap_or_default(),
                    x.note.clone().unwrap_or_else(|| engine::summarize(
                        &serde_json::to_value(x).unwrap_or_default()
                    )),
                    x.when
                        .as_ref()
                        .map(|w| format!(
                            " (judging {}; none at all is INCONCLUSIVE)",
                            engine::summarize(w)
                        ))
                        .unwrap_or_default()
                ),
                Step::Action(a) => format!("action {}", a.name()),
                Step::Wait(w) => format!("wait {}", w.0),
                Step::Repeat(r) => format!("repeat {} times:", r.count),
            };
            let _ = writeln!(s, "{indent}{}. {line}", i + 1);
            if let Step::Repeat(r) = st {
                steps(s, &r.steps, &format!("{indent}   "));
            }
        }
    }
    steps(&mut s, &c.steps, "  ");
    s
}

pub fn coverage(dir: &Path, role: Option<Role>, json: bool) -> ExitCode {
    let suite = match load_suite(dir) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let cov = Coverage::compute(&suite.catalogue, &suite.cases, role);
    if json {
        match serde_json::to_string_pretty(&cov) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("hmip6spec coverage: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        print!("{}", cov.render());
    }
    if cov.uncovered.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub fn lint(files: &[PathBuf], dir: &Path) -> ExitCode {
    let mut diags = Vec::new();
    let suite = Suite::load(dir);
    let (catalogue, parameters, n) = match &suite {
        Ok(s) => {
            diags.extend(s.warnings.clone());
            (s.catalogue.clone(), s.parameters.clone(), s.cases.len())
        }
        Err(d) => {
            diags.extend(d.clone());
            // Still lint the profiles against whatever catalogues load.
            let cat = hmip6spec::requirements::Catalogue::load(&dir.join("requirements.yaml"))
                .unwrap_or_default();
            let par = hmip6spec::profile::ParameterCatalogue::load(&dir.join("pics.yaml"))
                .map(|(p, _)| p)
                .unwrap_or_default();
            (cat, par, 0)
        }
    };
    let cats = hmip6spec::lint::Catalogues {
        requirements: &catalogue,
        parameters: &parameters,
    };
    let mut profiles = 0;
    for f in files {
        // A file with top-level `steps` is a case; anything else a profile
        // (a file that does not parse gets its error from either loader).
        let is_case = std::fs::read_to_string(f)
            .ok()
            .and_then(|text| hmip6spec::yaml::parse(f, &text).ok())
            .is_some_and(|tree| tree.get("steps").is_some());
        if is_case {
            match hmip6spec::case::load(f) {
                Ok(c) => diags.extend(hmip6spec::lint::lint_cases(&[c], &cats)),
                Err(d) => diags.push(d),
            }
        } else {
            profiles += 1;
            match hmip6spec::profile::load(f) {
                Ok(p) => diags.extend(hmip6spec::lint::lint_profile(&p, &cats)),
                Err(d) => diags.push(d),
            }
        }
    }
    print_diagnostics(&diags);
    let warnings = diags.iter().filter(|d| d.warning).count();
    let errors = diags.len() - warnings;
    let also = if warnings > 0 {
        format!(", {warnings} warning(s)")
    } else {
        String::new()
    };
    if errors == 0 {
        eprintln!("hmip6spec lint: {n} case(s) and {profiles} other file(s): no problem{also}");
        ExitCode::SUCCESS
    } else {
        eprintln!("hmip6spec lint: {errors} problem(s){also}");
        ExitCode::from(1)
    }
}

/// The schema text for a type, as committed.
pub fn schema_text<T: schemars::JsonSchema>() -> String {
    let schema = schemars::schema_for!(T);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

pub fn schema(cases_out: &Path, profiles_out: &Path, check: bool) -> ExitCode {
    let mut stale = false;
    for (path, text) in [
        (cases_out, schema_text::<Case>()),
        (profiles_out, schema_text::<Profile>()),
    ] {
        if check {
            let have = std::fs::read_to_string(path).unwrap_or_default();
            if have != text {
                eprintln!("{} is out of date: run `hmip6spec schema`", path.display());
                stale = true;
            }
        } else if let Err(e) = std::fs::write(path, text) {
            eprintln!("hmip6spec schema: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        } else {
            eprintln!("wrote {}", path.display());
        }
    }
    if stale {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
