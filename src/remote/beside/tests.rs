use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;

use super::*;
use crate::remote::client::RemoteClient;
use crate::service::OpenOptions;

/// An empty store in a fresh directory (no practice: nothing here needs a login).
fn store() -> (tempfile::TempDir, Arc<Service>) {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::open(
        &dir.path().join("data"),
        &OpenOptions {
            cache_bytes: 4 << 20,
            create: true,
        },
    )
    .unwrap();
    (dir, Arc::new(svc))
}

fn answers(socket: &Path) -> bool {
    match RemoteClient::connect(socket) {
        Ok(Some(mut client)) => client.is_initialised().is_ok(),
        _ => false,
    }
}

#[test]
fn it_answers_until_stopped_then_the_socket_is_gone_and_the_store_let_go() {
    let (dir, svc) = store();
    let socket = dir.path().join("s.sock");
    let beside = Beside::start(Arc::clone(&svc), socket.clone(), ServeOptions::default()).unwrap();
    assert_eq!(beside.socket(), socket);
    assert!(answers(&socket), "the server beside answers");
    // A client that stays connected does not keep it running.
    let idle = RemoteClient::connect(&socket).unwrap().unwrap();
    beside.stop().unwrap();
    assert!(!socket.exists(), "stop removes the socket");
    assert_eq!(
        Arc::strong_count(&svc),
        1,
        "once stop returns, no connection holds the store"
    );
    drop(idle);
}

#[test]
fn a_panic_that_unwinds_past_it_removes_the_socket() {
    let (dir, svc) = store();
    let socket = dir.path().join("s.sock");
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _beside =
            Beside::start(Arc::clone(&svc), socket.clone(), ServeOptions::default()).unwrap();
        assert!(answers(&socket));
        panic!("the interface failed");
    }));
    assert!(caught.is_err());
    assert!(!socket.exists(), "the socket went with the unwinding");
    assert_eq!(Arc::strong_count(&svc), 1);
}

#[test]
fn a_socket_where_a_server_answers_is_refused_and_that_server_keeps_answering() {
    let (dir, svc) = store();
    let socket = dir.path().join("s.sock");
    let first = Beside::start(Arc::clone(&svc), socket.clone(), ServeOptions::default()).unwrap();
    let err = Beside::start(Arc::clone(&svc), socket.clone(), ServeOptions::default())
        .expect_err("a second server on the same socket");
    assert!(matches!(err, Error::Busy(_)), "{err:?}");
    assert!(err.to_string().contains("already answers"), "{err}");
    assert!(answers(&socket), "the first server is undisturbed");
    first.stop().unwrap();
}

#[test]
fn a_file_that_is_not_a_socket_is_left_alone() {
    let (dir, svc) = store();
    let socket = dir.path().join("s.sock");
    std::fs::write(&socket, "notes").unwrap();
    let err =
        Beside::start(svc, socket.clone(), ServeOptions::default()).expect_err("not a socket");
    assert!(err.to_string().contains("is not a socket"), "{err}");
    assert_eq!(std::fs::read_to_string(&socket).unwrap(), "notes");
}

#[test]
fn a_stale_socket_is_replaced() {
    let (dir, svc) = store();
    let socket = dir.path().join("s.sock");
    drop(UnixListener::bind(&socket).unwrap());
    assert!(socket.exists(), "a socket nobody listens on");
    let beside = Beside::start(svc, socket.clone(), ServeOptions::default()).unwrap();
    assert!(answers(&socket));
    beside.stop().unwrap();
}

#[test]
fn the_log_is_private_appends_and_rotates_once_at_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(LOG_NAME), "from before\n").unwrap();
    let log = LogFile::with_limit(dir.path(), 64).unwrap();
    let line = |n: usize| format!("line {n:02} of the server beside the interface\n");
    {
        use tracing_subscriber::fmt::MakeWriter as _;
        for n in 0..5 {
            log.make_writer().write_all(line(n).as_bytes()).unwrap();
        }
    }
    let current = std::fs::read_to_string(dir.path().join(LOG_NAME)).unwrap();
    let old = std::fs::read_to_string(dir.path().join(OLD_LOG_NAME)).unwrap();
    // A line starts a new file once the file has reached 64 bytes; only the newest two files
    // are kept: "from before" with lines 0 and 1 was replaced by lines 2 and 3.
    assert_eq!(old, line(2) + &line(3), "the previous file");
    assert_eq!(current, line(4), "the current file");
    let mode = std::fs::metadata(dir.path().join(LOG_NAME))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "only the store's owner reads the log");
}

#[test]
fn a_log_already_past_its_limit_is_rotated_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(LOG_NAME), "x".repeat(100)).unwrap();
    let _log = LogFile::with_limit(dir.path(), 64).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join(OLD_LOG_NAME))
            .unwrap()
            .len(),
        100
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(LOG_NAME)).unwrap(),
        ""
    );
}
