//! What a sync tells its caller while it runs, and where a crash test may stop it. Both
//! integrations use these, so they belong to neither.

/// Told after each page (and each upload): the collection, records so far, and Procore's
/// `Total` when known. The CLI draws its progress bar from this.
pub type Progress = std::sync::Arc<dyn Fn(&str, u64, Option<u64>) + Send + Sync>;

/// Points in an upload where a crash test can stop the process. The compliance drain uses the
/// same points for an insurance write (the Procore `sync` call stands for the upload, recording
/// the write for the link) and an insurance removal (the delete stands for the upload,
/// forgetting the write for the link; `AfterLog` falls between logging it and forgetting it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// The PDF is rendered; nothing has reached Procore.
    BeforeUpload,
    /// Procore holds the document; the store does not know yet.
    AfterUpload,
    /// The store recorded the upload; the outbox item is not marked done.
    AfterLink,
    /// An insurance removal only: the run log says the record was removed; the store still
    /// holds it as written.
    AfterLog,
}

impl CrashPoint {
    pub fn parse(s: &str) -> Option<CrashPoint> {
        match s {
            "before_upload" => Some(CrashPoint::BeforeUpload),
            "after_upload" => Some(CrashPoint::AfterUpload),
            "after_link" => Some(CrashPoint::AfterLink),
            "after_log" => Some(CrashPoint::AfterLog),
            _ => None,
        }
    }
}

/// A crash test's request to stop at one point of an upload or insurance write. The library
/// only says when it reaches a point; what stopping means is the caller's (the binary aborts,
/// as a power cut or `kill -9` would), so library code never aborts a process by itself.
#[derive(Clone)]
pub struct CrashSwitch {
    at: CrashPoint,
    stop: std::sync::Arc<dyn Fn(CrashPoint) + Send + Sync>,
}

impl CrashSwitch {
    pub fn new(at: CrashPoint, stop: impl Fn(CrashPoint) + Send + Sync + 'static) -> CrashSwitch {
        CrashSwitch {
            at,
            stop: std::sync::Arc::new(stop),
        }
    }

    pub fn at(&self) -> CrashPoint {
        self.at
    }
}

/// By hand: the stop action has no `Debug`.
impl std::fmt::Debug for CrashSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CrashSwitch").field(&self.at).finish()
    }
}

/// Tells the crash test's switch, if any, that the run reached `here`.
pub fn crash_if(switch: Option<&CrashSwitch>, here: CrashPoint) {
    if let Some(switch) = switch.filter(|s| s.at == here) {
        (switch.stop)(here);
    }
}
