//! The `staffctl` command line: clap subcommands mapped 1:1 onto service requests, table or
//! JSON output, and exit codes that scripts can rely on.

pub mod args;
mod backup;
mod import;
pub mod output;
pub mod prompt;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::error::{Error, Result, exit};
use crate::remote::backend::{Backend, Route};
use crate::service::{
    AuditQuery, Calls as _, ExportFormat as Format, FacilityField, InitRequest, OpenOptions,
    Origin, PracticeField, Request, Service, Session, UserField, UserFields, UserFilter,
};
use args::{
    AccessCmd, AuditCmd, AuditFilter, Cli, Command, FacilityCmd, PermissionCmd, PracticeCmd,
    RoleCmd, UserCmd,
};
use output::OutputFormat;

/// Replaces Rust's panic report with one line that says what to do; the interface's own hook
/// restores the terminal before this runs.
fn install_panic_report() {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "staffctl: internal error ({}{at}). This is a bug; please report it. Changes that were reported as saved are stored; nothing else was written.",
            output::cell_long(&what)
        );
    }));
}

/// Parses the command line, runs it, and returns the exit code.
pub fn main() -> ExitCode {
    install_panic_report();
    match std::panic::catch_unwind(main_inner) {
        Ok(code) => code,
        Err(_) => ExitCode::from(exit::FAILURE),
    }
}

fn main_inner() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            // clap echoes what was typed ("invalid value '...'"): never let an escape sequence
            // in an argument reach the terminal.
            let text = e.render().to_string();
            let safe: Vec<String> = text
                .lines()
                .map(|l| crate::security::sanitize::for_terminal(l).into_owned())
                .collect();
            let safe = safe.join("\n");
            if e.use_stderr() {
                eprintln!("{safe}");
            } else {
                let _ = output::print(&format!("{safe}\n"));
            }
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("staffctl: {}", output::cell_long(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}

/// The data directory: `--data`/`STAFFCTL_DATA`, else `/var/lib/staffctl` when it exists and is
/// writable, else the user's XDG data directory.
pub fn default_data_dir() -> PathBuf {
    let system = PathBuf::from("/var/lib/staffctl");
    if system.is_dir() && nix::unistd::access(&system, nix::unistd::AccessFlags::W_OK).is_ok() {
        return system;
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("staffctl")
}

fn route(cli: &Cli) -> Route {
    match (&cli.socket, cli.direct) {
        (_, true) => Route::Direct,
        (Some(p), false) => Route::Socket(p.clone()),
        (None, false) => Route::Auto,
    }
}

/// Reaches the store: through `staffctl serve` when one answers, else directly.
fn open(cli: &Cli, create: bool) -> Result<Backend> {
    let dir = cli.data.clone().unwrap_or_else(default_data_dir);
    Backend::connect(&route(cli), &dir, cli.data.is_some(), create)
}

/// `staffctl serve`: owns the store until SIGTERM/SIGINT.
fn serve(cli: &Cli) -> Result<()> {
    // The server's log goes to standard error (journald under systemd), without colours.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let dir = cli.data.clone().unwrap_or_else(default_data_dir);
    let svc = std::sync::Arc::new(Service::open(
        &dir,
        &OpenOptions {
            cache_bytes: OpenOptions::SERVER_CACHE_BYTES,
            ..OpenOptions::default()
        },
    )?);
    let socket = cli
        .socket
        .clone()
        .unwrap_or_else(|| crate::remote::default_socket(&dir));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, std::sync::Arc::clone(&stop))
            .map_err(|e| Error::Internal(format!("cannot install signal handler: {e}")))?;
    }
    crate::notice::set_sink(crate::notice::log);
    let listener = crate::remote::server::bind(&socket)?;
    crate::remote::server::serve(svc, listener, &socket, stop)
}

fn login(svc: &Backend, cli: &Cli) -> Result<Session> {
    let user = match cli
        .operator
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(u) => u.to_string(),
        None => {
            return Err(Error::Denied(
                "no operator: pass --as USER or set STAFFCTL_USER (an administrator's username or email)".into(),
            ));
        }
    };
    let password = prompt::password(&format!("Password for {user}: "))?;
    svc.login(&user, &password, &Origin::current())
}

fn run(cli: Cli) -> Result<()> {
    let Some(command) = &cli.command else {
        return interactive(&cli);
    };
    match command {
        Command::Init(a) => {
            let dir = cli.data.clone().unwrap_or_else(default_data_dir);
            let existed = dir.exists();
            let result = init(&cli, a);
            if result.is_err() && !existed {
                // A refused first init leaves nothing behind.
                let _ = std::fs::remove_dir_all(&dir);
            }
            result
        }
        Command::Serve => serve(&cli),
        Command::Activate(a) => activate(&cli, a),
        Command::Auth(args::AuthCmd::Verify { facility, device }) => {
            let (login, password) = read_credentials()?;
            let backend = open(&cli, false)?;
            backend.verify_login(
                &login,
                &password,
                facility.as_deref(),
                device.as_deref(),
                &Origin::current(),
            )
        }
        Command::Auth(args::AuthCmd::Can {
            user,
            permission,
            facility,
        }) => {
            let backend = open(&cli, false)?;
            backend.can(user, permission, facility.as_deref())
        }
        Command::Recover(a) => {
            // Break-glass needs the store itself, never a server.
            let dir = cli.data.clone().unwrap_or_else(default_data_dir);
            let svc = Service::open(
                &dir,
                &OpenOptions {
                    create: false,
                    ..OpenOptions::default()
                },
            )?;
            let password = prompt::new_password("STAFFCTL_NEW_PASSWORD", &a.user)?;
            let who = svc.recover(&a.user, &password, &Origin::current())?;
            eprintln!("WARNING: break-glass recovery recorded in the audit log (auth.recover).");
            output::print(&format!(
                "New password set for {}.\n",
                output::cell_long(&who)
            ))
        }
        Command::Keymap(args::KeymapCmd::Check { path }) => {
            keymap_check(path.as_deref(), cli.keymap.as_deref())
        }
        Command::Demo => {
            // The screen belongs to the interface.
            crate::notice::set_sink(crate::notice::discard);
            crate::demo::run(cli.keymap.clone())
        }
        Command::Backup(args::BackupCmd::Create {
            file,
            passphrase,
            unencrypted,
        }) => {
            let backend = open(&cli, false)?;
            let session = login(&backend, &cli)?;
            backup::create(
                &backend,
                &session,
                file,
                passphrase,
                *unencrypted,
                cli.output,
            )
        }
        Command::Backup(cmd) => {
            let dir = cli.data.clone().unwrap_or_else(default_data_dir);
            backup::offline(cmd, &dir, cli.output)
        }
        Command::Import(args::ImportCmd::Template { file }) => import::template(file.as_deref()),
        Command::Import(cmd) => {
            let backend = open(&cli, false)?;
            let session = login(&backend, &cli)?;
            import::run(cmd, &backend, &session, cli.output)
        }
        Command::Permission(PermissionCmd::List) => {
            let rows = crate::service::api::PermissionInfo::catalogue();
            render::permissions(&rows, cli.output)
        }
        Command::Audit(AuditCmd::Export {
            format,
            file,
            filter,
        }) => {
            let svc = open(&cli, false)?;
            let session = login(&svc, &cli)?;
            let query = audit_query(filter, None)?;
            let format = match format {
                args::ExportFormat::Csv => Format::Csv,
                args::ExportFormat::Jsonl => Format::Jsonl,
            };
            match file {
                Some(path) => {
                    let f = crate::security::files::create_private(path, false).map_err(|e| {
                        Error::Storage(format!("cannot create {}: {e}", path.display()))
                    })?;
                    let mut w = std::io::BufWriter::with_capacity(256 << 10, f);
                    let n = svc.audit_export(&session, &query, format, &mut w)?;
                    let f = w.into_inner().map_err(|e| {
                        Error::Storage(format!("cannot write {}: {e}", path.display()))
                    })?;
                    // A file the auditor takes away must be on disk; a device or a pipe
                    // (`-o /dev/null`, a FIFO) has nothing to sync.
                    let regular = f.metadata().map(|m| m.is_file()).unwrap_or(false);
                    if regular {
                        f.sync_all().map_err(|e| {
                            Error::Storage(format!("cannot write {}: {e}", path.display()))
                        })?;
                    }
                    eprintln!("Exported {n} events to {}.", path.display());
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut w = std::io::BufWriter::with_capacity(
                        256 << 10,
                        output::ClosedPipeOk::new(stdout.lock()),
                    );
                    svc.audit_export(&session, &query, format, &mut w)?;
                }
            }
            Ok(())
        }
        _ => {
            let request = request_for(command)?;
            let svc = open(&cli, false)?;
            let session = login(&svc, &cli)?;
            if !is_json(cli.output)
                && let Ok(me) = svc.bound(&session).who_am_i()
            {
                output::set_local_time(crate::service::LocalTime::new(Some(&me.time_zone)));
            }
            let response = svc.call(&session, request)?;
            render::response(command, &response, cli.output)
        }
    }
}

/// `staffctl activate`: login, code (`STAFFCTL_INVITE_CODE` or prompted) and a new password
/// (`STAFFCTL_NEW_PASSWORD` or prompted twice).
fn activate(cli: &Cli, a: &args::ActivateArgs) -> Result<()> {
    let login = match &a.user {
        Some(u) => u.clone(),
        None => prompt::line("Your username or email: ")?,
    };
    let code = match std::env::var("STAFFCTL_INVITE_CODE") {
        Ok(c) => c,
        Err(_) => prompt::secret_line("Activation code: ")?,
    };
    let password = prompt::new_password("STAFFCTL_NEW_PASSWORD", login.trim())?;
    let backend = open(cli, false)?;
    backend.activate(login.trim(), &code, &password, &Origin::current())?;
    output::print(&format!(
        "Your account is active. Log in as {}.\n",
        output::cell_long(login.trim())
    ))
}

/// The login and password of `auth verify`: `PAM_USER` and the password on stdin (pam_exec's
/// `expose_authtok` writes it NUL-terminated), or two lines on stdin.
fn read_credentials() -> Result<(String, String)> {
    use std::io::Read;
    let mut input = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut input)
        .map_err(|e| Error::invalid("stdin", format!("cannot read the credentials: {e}")))?;
    let clean = |s: &str| s.trim_end_matches(['\0', '\n', '\r']).to_string();
    let (login, password) = match std::env::var("PAM_USER") {
        Ok(user) if !user.is_empty() => (user, clean(input.split('\0').next().unwrap_or_default())),
        _ => {
            let mut lines = input.split('\n');
            let login = clean(lines.next().unwrap_or_default());
            let password = clean(lines.next().unwrap_or_default());
            (login, password)
        }
    };
    if login.trim().is_empty() {
        return Err(Error::invalid(
            "stdin",
            "no username: give it on the first line of stdin, or in PAM_USER",
        ));
    }
    Ok((login.trim().to_string(), password))
}

/// `staffctl init`.
fn init(cli: &Cli, a: &args::InitArgs) -> Result<()> {
    let svc = open(cli, true)?;
    if svc.is_initialised()? {
        return Err(Error::Conflict(format!(
            "the {} is already initialised; use --data DIR for a new one",
            svc.describe()
        )));
    }
    let password = prompt::new_password(prompt::PASSWORD_ENV, &a.admin_username)?;
    let req = InitRequest {
        practice_name: a.practice.clone(),
        practice_email: a.practice_email.clone(),
        facility: a.facility.clone(),
        admin_username: a.admin_username.clone(),
        admin_email: a.admin_email.clone(),
        admin_first: a.admin_first.clone(),
        admin_last: a.admin_last.clone(),
        admin_password: password,
    };
    svc.init(&req, &Origin::current())?;
    output::print(&format!(
        "Initialised {} in {}.\nLog in as {} (e.g. `staffctl user list --as {}`).\n",
        output::cell_long(&a.practice),
        svc.describe(),
        output::cell_long(&a.admin_username.to_lowercase()),
        output::cell_long(&a.admin_username.to_lowercase()),
    ))
}

/// Opens the interactive interface on the data directory (first-run setup on an empty store).
/// When it opens the store itself, it also serves other staffctl processes on the socket
/// `staffctl serve` would use, until it ends.
fn interactive(cli: &Cli) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "the interactive interface needs a terminal; in scripts use the subcommands (`staffctl --help`)".into(),
        ));
    }
    let dir = cli.data.clone().unwrap_or_else(default_data_dir);
    // The first directory on the way to the data directory that does not exist yet: opening
    // the store creates it (and what is below it).
    let created = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .last()
        .map(std::path::Path::to_path_buf);
    let backend = std::sync::Arc::new(open(cli, true)?);
    let local = backend.local().cloned();
    let beside = local.as_ref().and_then(|svc| serve_beside(svc, &dir));
    // The screen belongs to the interface: notices go to the log (serve.log when it serves).
    crate::notice::set_sink(crate::notice::log);
    let opts = crate::tui::TuiOptions {
        keymap: cli.keymap.clone(),
        auto_login: None,
    };
    crate::tui::run_then(backend, &opts, move |ended| {
        // Requests of other processes finish and the socket goes before the store closes.
        if let Some(beside) = beside
            && let Err(e) = beside.stop()
        {
            tracing::warn!(
                "{}",
                crate::security::sanitize::for_terminal(&e.to_string())
            );
        }
        let Some(svc) = local else {
            return;
        };
        // Nothing else may hold the store, nor have set it up meanwhile through the socket.
        let unused = !ended.initialised
            && std::sync::Arc::strong_count(&svc) == 1
            && !svc.is_initialised().unwrap_or(true);
        drop(svc);
        if let Some(top) = created
            && unused
        {
            discard_unused_store(&dir, &top);
        }
    })
}

/// Serves the store the interface opened to other staffctl processes, logging to the data
/// directory's `serve.log` (never to the terminal the interface draws on). `None`, with the
/// reason logged, when that is not possible: the interface runs on, and others are told whose
/// interface holds the store.
fn serve_beside(
    svc: &std::sync::Arc<Service>,
    dir: &std::path::Path,
) -> Option<crate::remote::beside::Beside> {
    if let Ok(log) = crate::remote::beside::LogFile::open(dir) {
        let _ = tracing_subscriber::fmt()
            .with_writer(log)
            .with_ansi(false)
            .try_init();
    }
    let socket = crate::remote::default_socket(dir);
    match crate::remote::beside::Beside::start(
        std::sync::Arc::clone(svc),
        socket.clone(),
        crate::remote::server::ServeOptions::default(),
    ) {
        Ok(beside) => Some(beside),
        Err(e) => {
            tracing::warn!(
                "not serving other staffctl processes on {}: {}",
                crate::security::sanitize::for_terminal(&socket.display().to_string()),
                crate::security::sanitize::for_terminal(&e.to_string())
            );
            None
        }
    }
}

/// Removes the data directory `dir` this run created for a practice that was never set up
/// (the wizard was left before anything was written): the store files staffctl put in it, then
/// `dir` and each directory above it up to `top` that staffctl created, each only if nothing
/// else is in it. The store must be closed.
fn discard_unused_store(dir: &std::path::Path, top: &std::path::Path) {
    let _ = std::fs::remove_dir_all(dir.join("db"));
    let _ = std::fs::remove_file(dir.join("staffctl.lock"));
    for log in [
        crate::remote::beside::LOG_NAME,
        crate::remote::beside::OLD_LOG_NAME,
    ] {
        let _ = std::fs::remove_file(dir.join(log));
    }
    for d in dir.ancestors() {
        // `remove_dir` refuses a directory that is not empty: anything else in it stays.
        if std::fs::remove_dir(d).is_err() || d == top {
            break;
        }
    }
}

/// `staffctl keymap check [PATH]`: the file given, else every file the interface reads at
/// start-up (config file, chosen keymap file, override file), with the same problems it
/// reports, by file and line.
fn keymap_check(path: Option<&std::path::Path>, choice: Option<&str>) -> Result<()> {
    let (problems, files) = match path {
        Some(p) => {
            if !p.exists() {
                return Err(Error::NotFound(format!(
                    "no keymap file at {}",
                    p.display()
                )));
            }
            (
                crate::tui::keymap::Keymap::check_file(p),
                vec![p.display().to_string()],
            )
        }
        None => {
            let startup = crate::tui::keymap::startup(choice);
            if startup.read.is_empty() {
                let user = crate::tui::keymap::user_keymap_file().ok_or_else(|| {
                    Error::invalid("path", "no config directory; pass the keymap file")
                })?;
                return Err(Error::NotFound(format!(
                    "no keymap file at {} (and no config file); pass the file to check",
                    user.display()
                )));
            }
            (startup.problems, startup.read)
        }
    };
    if problems.is_empty() {
        let ok: String = files.iter().map(|f| format!("{f}: OK\n")).collect();
        return output::print(&ok);
    }
    for p in &problems {
        eprintln!("{}", output::cell_long(&p.to_string()));
    }
    Err(Error::invalid(
        "keymap",
        format!("{} problem(s) in {}", problems.len(), files.join(", ")),
    ))
}

fn audit_query(f: &AuditFilter, limit: Option<usize>) -> Result<AuditQuery> {
    Ok(AuditQuery {
        since: f
            .since
            .as_deref()
            .map(|t| crate::service::parse_time("since", t))
            .transpose()?,
        until: f
            .until
            .as_deref()
            .map(|t| crate::service::parse_time("until", t))
            .transpose()?,
        actor: f.actor.clone(),
        target: f.target.clone(),
        action: f.action.clone(),
        limit,
    })
}

fn set_pairs(set: &[String]) -> Result<Vec<(String, String)>> {
    set.iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| Error::invalid("set", format!("'{s}' must be FIELD=VALUE")))
        })
        .collect()
}

fn user_fields(
    profile: &args::UserProfileArgs,
    base: Vec<(UserField, Option<String>)>,
) -> Result<UserFields> {
    let mut fields: UserFields = base
        .into_iter()
        .filter_map(|(f, v)| v.map(|v| (f, v)))
        .collect();
    let p = profile;
    let extra = [
        (UserField::Username, p.username.clone()),
        (
            UserField::LoginMethod,
            p.login.map(|l| format!("{l:?}").to_lowercase()),
        ),
        (
            UserField::Billing,
            p.billing.map(|b| format!("{b:?}").to_lowercase()),
        ),
        (UserField::Npi, p.npi.clone()),
        (UserField::Taxonomy, p.taxonomy.clone()),
    ];
    fields.extend(extra.into_iter().filter_map(|(f, v)| v.map(|v| (f, v))));
    for (k, v) in set_pairs(&p.set)? {
        if k.trim().eq_ignore_ascii_case("admin") {
            return Err(admin_flag_is_a_role());
        }
        let field = UserField::parse(&k).ok_or_else(|| {
            Error::invalid(
                "set",
                format!(
                    "unknown user field '{}'; `staffctl user add --help` lists the fields",
                    output::cell_long(&k)
                ),
            )
        })?;
        fields.push((field, v));
    }
    Ok(fields)
}

/// The answer to `--admin` / `--set admin=...`, which older releases had.
fn admin_flag_is_a_role() -> Error {
    Error::invalid(
        "admin",
        "there is no administrator flag: what a user may do in staffctl comes from their role (admin.users, admin.settings, audit.export); give them the Administrator role (--role Administrator) or a role with those permissions",
    )
}

fn facility_fields(
    name: Option<&String>,
    d: &args::FacilityDetails,
) -> Vec<(FacilityField, String)> {
    [
        (FacilityField::Name, name.cloned()),
        (FacilityField::Code, d.code.clone()),
        (FacilityField::Address, d.address.clone()),
        (FacilityField::Phone, d.phone.clone()),
    ]
    .into_iter()
    .filter_map(|(f, v)| v.map(|v| (f, v)))
    .collect()
}

/// Maps a command onto its service request.
fn request_for(command: &Command) -> Result<Request> {
    Ok(match command {
        Command::Init(_)
        | Command::Recover(_)
        | Command::Permission(_)
        | Command::Keymap(_)
        | Command::Demo
        | Command::Auth(_)
        | Command::Activate(_)
        | Command::Import(_)
        | Command::Backup(_)
        | Command::Serve => {
            return Err(Error::Storage(
                "internal: command has no service request".into(),
            ));
        }
        Command::Practice(PracticeCmd::Show) => Request::PracticeShow,
        Command::Practice(PracticeCmd::Edit { set }) => {
            let mut fields = Vec::new();
            for (k, v) in set_pairs(set)? {
                if k.trim()
                    .replace('-', "_")
                    .eq_ignore_ascii_case("mail_command")
                {
                    return Err(Error::invalid(
                        "set",
                        format!(
                            "the mail command is set by the server's administrator, not in staffctl: `[mail] command = \"...\"` in {} (or {} in the service's environment)",
                            crate::service::mail::SYSTEM_CONFIG,
                            crate::service::mail::MAIL_ENV
                        ),
                    ));
                }
                let f = PracticeField::parse(&k).ok_or_else(|| {
                    Error::invalid(
                        "set",
                        format!(
                            "unknown setting '{}'; `staffctl practice edit --help` lists them",
                            output::cell_long(&k)
                        ),
                    )
                })?;
                fields.push((f, v));
            }
            Request::PracticeEdit(fields)
        }
        Command::Facility(c) => match c {
            FacilityCmd::List { all } => Request::FacilityList {
                include_archived: *all,
            },
            FacilityCmd::Show { facility } => Request::FacilityShow(facility.clone()),
            FacilityCmd::Add { name, details } => {
                Request::FacilityAdd(facility_fields(Some(name), details))
            }
            FacilityCmd::Edit {
                facility,
                name,
                details,
            } => Request::FacilityEdit(facility.clone(), facility_fields(name.as_ref(), details)),
            FacilityCmd::Archive { facility } => Request::FacilityArchive(facility.clone()),
            FacilityCmd::Restore { facility } => Request::FacilityRestore(facility.clone()),
        },
        Command::Role(c) => match c {
            RoleCmd::List => Request::RoleList,
            RoleCmd::Show { role } => Request::RoleShow(role.clone()),
            RoleCmd::Add {
                name,
                description,
                permissions,
            } => Request::RoleAdd {
                name: name.clone(),
                description: description.clone(),
                permissions: permissions.clone(),
            },
            RoleCmd::Edit {
                role,
                grant,
                revoke,
                rename,
                description,
            } => Request::RoleEdit {
                role: role.clone(),
                rename: rename.clone(),
                description: description.clone(),
                grant: grant.clone(),
                revoke: revoke.clone(),
            },
            RoleCmd::Delete { role } => Request::RoleDelete(role.clone()),
        },
        Command::User(c) => match c {
            UserCmd::List {
                status,
                facility,
                role,
                search,
            } => Request::UserList(UserFilter {
                status: status.map(|s| match s {
                    args::Status::Invited => crate::model::UserStatus::Invited,
                    args::Status::Active => crate::model::UserStatus::Active,
                    args::Status::Deactivated => crate::model::UserStatus::Deactivated,
                }),
                facility: facility.clone(),
                role: role.clone(),
                search: search.clone(),
            }),
            UserCmd::Show { user } => Request::UserShow(user.clone()),
            UserCmd::Add {
                first,
                last,
                email,
                role,
                facility,
                part_time,
                admin,
                aide,
                profile,
            } => {
                if *admin {
                    return Err(admin_flag_is_a_role());
                }
                let flag = |b: bool| b.then(|| "yes".to_string());
                Request::UserAdd(user_fields(
                    profile,
                    vec![
                        (UserField::FirstName, Some(first.clone())),
                        (UserField::LastName, Some(last.clone())),
                        (UserField::Email, Some(email.clone())),
                        (UserField::Role, Some(role.clone())),
                        (UserField::Facility, Some(facility.clone())),
                        (UserField::PartTime, flag(*part_time)),
                        (UserField::Aide, flag(*aide)),
                    ],
                )?)
            }
            UserCmd::Edit {
                user,
                first,
                last,
                email,
                role,
                facility,
                profile,
            } => Request::UserEdit(
                user.clone(),
                user_fields(
                    profile,
                    vec![
                        (UserField::FirstName, first.clone()),
                        (UserField::LastName, last.clone()),
                        (UserField::Email, email.clone()),
                        (UserField::Role, role.clone()),
                        (UserField::Facility, facility.clone()),
                    ],
                )?,
            ),
            UserCmd::Deactivate { user, reason } => Request::UserDeactivate {
                user: user.clone(),
                reason: reason.clone(),
            },
            UserCmd::Reactivate { user } => Request::UserReactivate(user.clone()),
            UserCmd::Delete { user } => Request::UserDelete(user.clone()),
            UserCmd::Unlock { user } => Request::UserUnlock(user.clone()),
        },
        Command::Device(c) => match c {
            args::DeviceCmd::List => Request::DeviceList,
            args::DeviceCmd::Approve { id } => Request::DeviceApprove(*id),
            args::DeviceCmd::Decline { id } => Request::DeviceDecline(*id),
            args::DeviceCmd::Revoke { id } => Request::DeviceRevoke(*id),
        },
        Command::Invite(c) => match c {
            args::InviteCmd::List => Request::InviteList,
            args::InviteCmd::Resend { user } => Request::InviteResend(user.clone()),
            args::InviteCmd::Revoke { user } => Request::InviteRevoke(user.clone()),
        },
        Command::Access(c) => match c {
            AccessCmd::Show { user } => Request::AccessShow(user.clone()),
            AccessCmd::Grant { user, facilities } => Request::AccessGrant {
                user: user.clone(),
                facilities: facilities.clone(),
            },
            AccessCmd::Revoke { user, facilities } => Request::AccessRevoke {
                user: user.clone(),
                facilities: facilities.clone(),
            },
            AccessCmd::All { user } => Request::AccessAll(user.clone()),
            AccessCmd::Only { user, facilities } => Request::AccessOnly {
                user: user.clone(),
                facilities: facilities.clone(),
            },
        },
        Command::Audit(c) => match c {
            AuditCmd::List { filter, limit } => {
                Request::AuditList(audit_query(filter, Some(*limit))?)
            }
            AuditCmd::Verify { expect } => Request::AuditVerify {
                expect: expect.clone(),
            },
            AuditCmd::Head => Request::AuditHead,
            AuditCmd::Quarantine => Request::AuditQuarantine,
            AuditCmd::Export { .. } => {
                return Err(Error::Internal(
                    "internal error: the export streams; this is a bug".into(),
                ));
            }
        },
    })
}

/// Whether `format` asks for JSON.
fn is_json(format: OutputFormat) -> bool {
    format == OutputFormat::Json
}
