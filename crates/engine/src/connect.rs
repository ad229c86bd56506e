//! Connecting a Procore company: check what trestle may do there, then save the connection.
//!
//! Nothing is saved unless the checks pass, so a connection in the store is one that worked
//! when it was made. The workforce integration's checks must pass; the compliance
//! integration's are always run, so the admin learns now what its first sync would need, and
//! refuse the connection only when compliance is required (asked for, or a compliance sync
//! has already run for the company).

use crate::hooks::HookOutcome;
use crate::open::{client_for, config_for, OpenError};
use crate::settings::{Grant, Settings};
use crate::Integration;
use secrecy::{ExposeSecret, SecretString};
use store::{Connection, Store, StoreError};
use sync::workforce::access::{check_access, check_compliance_access, AccessCheck, Problem};

/// What a person asks for when connecting a company (or connecting it again, to rotate the
/// secret or change a toggle).
#[derive(Debug, Clone)]
pub struct ConnectRequest {
    /// The number after `/app/company/` in a Procore URL.
    pub company_id: i64,
    /// The OAuth client id of trestle's Procore app.
    pub client_id: String,
    pub client_secret: SecretString,
    /// Toggles to change; those not given keep their saved value (the default for a new
    /// connection), so rotating a secret does not reset them.
    pub toggles: Toggles,
    /// With the authorization-code grant: the code Procore showed after a person approved the
    /// app. Not needed once the store holds tokens for the company.
    pub auth_code: Option<SecretString>,
    /// Refuse the connection when the compliance integration's checks fail.
    pub require_compliance: bool,
    /// Run the checks and save nothing (a "test the connection" button).
    pub check_only: bool,
    /// The connection as the caller read it (to show it, or to check its `If-Match`): the
    /// toggles not given keep its values, and the save is refused
    /// ([`StoreError::Changed`](store::StoreError::Changed)) if the saved one changed since.
    /// Without it, the connection is read here, and when another save comes between that read
    /// and this one, this change is made again on what that one left.
    pub as_read: Option<Connection>,
    /// A change of settings only: the credentials are the saved ones as read (the
    /// `client_id` and `client_secret` given are not used), so a secret rotated meanwhile
    /// is kept.
    pub keep_credentials: bool,
}

/// Changes to a connection's toggles; `None` keeps what is saved.
#[derive(Debug, Clone, Default)]
pub struct Toggles {
    /// Only users marked as employees in Procore become workers.
    pub sync_employees_only: Option<bool>,
    /// New workers are active at once instead of Pending Account Activation.
    pub auto_activate_workers: Option<bool>,
    /// Completed form PDFs go to each project's Procore Documents.
    pub sync_forms: Option<bool>,
    /// The forms folder's base name.
    pub forms_folder: Option<String>,
}

/// A connection whose checks passed.
#[derive(Debug, Clone)]
pub struct Connected {
    /// The connection as saved (or as it would be, for a check only).
    pub connection: Connection,
    /// The workforce integration's checks; all passed.
    pub workforce: Vec<AccessCheck>,
    /// The compliance integration's checks; some may have failed when compliance was not
    /// required ([`Connected::compliance_ready`]).
    pub compliance: Vec<AccessCheck>,
    /// `false` only for a check-only request.
    pub saved: bool,
    /// The company was connected before this request: its first sync has already run.
    pub connected_before: bool,
    /// The company's Procore webhook, registered or repaired after saving; `None` for a check
    /// only. A failure here is a warning: the connection stands.
    pub webhook: Option<HookOutcome>,
}

impl Connected {
    /// Whether a compliance sync would have what it needs.
    pub fn compliance_ready(&self) -> bool {
        self.compliance.iter().all(|c| c.ok)
    }
}

/// A connection refused because a check failed; nothing was saved.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub company_id: i64,
    /// The integration whose check failed.
    pub integration: Integration,
    /// What kind of failure the first failed check is: each is fixed in a different place.
    pub problem: Problem,
    /// The workforce integration's checks.
    pub workforce: Vec<AccessCheck>,
    /// The compliance integration's checks; empty when a workforce check failed (they were
    /// not run).
    pub compliance: Vec<AccessCheck>,
}

impl Refusal {
    /// The refusal for the first failed check of `integration`.
    fn new(
        company_id: i64,
        integration: Integration,
        workforce: Vec<AccessCheck>,
        compliance: Vec<AccessCheck>,
    ) -> Refusal {
        let checks = match integration {
            Integration::Workforce => &workforce,
            Integration::Compliance => &compliance,
        };
        let problem = checks
            .iter()
            .find(|c| !c.ok)
            .and_then(|c| c.problem)
            .unwrap_or(Problem::Permission);
        Refusal {
            company_id,
            integration,
            problem,
            workforce,
            compliance,
        }
    }

    /// What went wrong, in a few words.
    pub fn headline(&self) -> String {
        match self.problem {
            Problem::SignIn => "signing in to Procore failed".into(),
            Problem::Unreachable => "Procore could not be reached".into(),
            Problem::Company => {
                format!("trestle cannot work in Procore company {}", self.company_id)
            }
            Problem::Permission => "some permissions are missing".into(),
        }
    }

    /// Where to look to fix it; `None` for missing permissions, whose checks each say where.
    pub fn advice(&self) -> Option<&'static str> {
        match self.problem {
            Problem::SignIn => Some("check the client id and the client secret of trestle's Procore app"),
            Problem::Unreachable => Some("check the network, a proxy, and procore.environment / api_base in the configuration"),
            Problem::Company => Some("check the Company ID and that the app is installed in that company"),
            Problem::Permission => None,
        }
    }

    /// The checks that failed, in the order they ran.
    pub fn failed(&self) -> impl Iterator<Item = &AccessCheck> {
        self.workforce
            .iter()
            .chain(&self.compliance)
            .filter(|c| !c.ok)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.headline())?;
        if self.integration == Integration::Compliance {
            f.write_str(" for the compliance integration")?;
        }
        if let Some(advice) = self.advice() {
            write!(f, ": {advice}")?;
        }
        f.write_str("; nothing was saved")
    }
}

/// Why a connection was not made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("the store: {0}")]
    Store(StoreError),
    /// The authorization-code grant, with no tokens yet and no code: a person must approve
    /// the app at `url` and bring back the code Procore shows.
    #[error("trestle is not authorized in Procore company {company_id} yet: open {url}, sign in, approve the app, and connect again with the code Procore shows")]
    NotAuthorized { company_id: i64, url: url::Url },
    #[error("exchanging the authorization code (codes are single-use and expire after 10 minutes; get a new one): {0}")]
    CodeRefused(procore::Error),
    /// The authorization URL could not be made from the settings.
    #[error("the Procore login URL: {0}")]
    LoginUrl(procore::Error),
    #[error("{0}")]
    Refused(Box<Refusal>),
}

impl From<Refusal> for ConnectError {
    fn from(r: Refusal) -> Self {
        ConnectError::Refused(Box::new(r))
    }
}

impl From<StoreError> for ConnectError {
    fn from(e: StoreError) -> Self {
        ConnectError::Store(e)
    }
}

/// Checks what trestle may do in the company and, when the checks pass, saves the connection.
///
/// # Errors
/// A failed check ([`ConnectError::Refused`], with every check's result), a missing
/// authorization, or the store or client failing.
pub async fn connect(
    settings: &Settings,
    store: &Store,
    request: ConnectRequest,
) -> Result<Connected, ConnectError> {
    let mut tries_left = store::TRIES_AGAIN;
    loop {
        let saved = match &request.as_read {
            Some(read) => Some(read.clone()),
            None => store.connection(request.company_id).await?,
        };
        // Made from its own read, the change is made again; not with an authorization code,
        // which Procore takes once.
        let own_read = request.as_read.is_none();
        let may_retry = own_read && request.auth_code.is_none() && tries_left > 0;
        match connect_from(settings, store, &request, saved).await {
            Err(ConnectError::Store(StoreError::Changed { .. })) if may_retry => {
                tries_left -= 1;
            }
            Err(ConnectError::Store(e)) if own_read => return Err(e.gave_up().into()),
            done => return done,
        }
    }
}

/// [`connect`] with the connection `saved` as read: its toggles are kept where the request
/// gives none, and the save is refused if it changed since.
async fn connect_from(
    settings: &Settings,
    store: &Store,
    request: &ConnectRequest,
    saved: Option<Connection>,
) -> Result<Connected, ConnectError> {
    let company_id = request.company_id;
    let (client_id, client_secret) = match &saved {
        Some(saved) if request.keep_credentials => (&saved.client_id, &saved.client_secret),
        _ => (&request.client_id, &request.client_secret),
    };
    let mut connection = Connection::new(company_id, client_id, client_secret.clone());
    let connected_before = saved.is_some();
    if let Some(saved) = &saved {
        connection.sync_employees_only = saved.sync_employees_only;
        connection.auto_activate_workers = saved.auto_activate_workers;
        connection.sync_forms = saved.sync_forms;
        connection.forms_folder.clone_from(&saved.forms_folder);
    }
    let toggles = request.toggles.clone();
    if let Some(v) = toggles.sync_employees_only {
        connection.sync_employees_only = v;
    }
    if let Some(v) = toggles.auto_activate_workers {
        connection.auto_activate_workers = v;
    }
    if let Some(v) = toggles.sync_forms {
        connection.sync_forms = v;
    }
    if let Some(v) = toggles.forms_folder {
        connection.forms_folder = v;
    }
    if settings.procore.grant == Grant::AuthorizationCode {
        authorize(settings, store, &connection, request.auth_code.as_ref()).await?;
    }
    let client = client_for(settings, &connection, store)?;

    let workforce = check_access(&client, connection.sync_forms, &connection.forms_folder).await;
    if workforce.iter().any(|c| !c.ok) {
        return Err(Refusal::new(company_id, Integration::Workforce, workforce, Vec::new()).into());
    }
    let compliance = check_compliance_access(&client).await;
    let compliance_required = request.require_compliance
        || !store
            .cursors_with_prefix(company_id, "compliance.")
            .await?
            .is_empty();
    if compliance_required && compliance.iter().any(|c| !c.ok) {
        return Err(
            Refusal::new(company_id, Integration::Compliance, workforce, compliance).into(),
        );
    }
    let mut webhook = None;
    if !request.check_only {
        store.save_connection(&connection, saved.as_ref()).await?;
        let now = chrono::Utc::now();
        webhook = Some(
            crate::hooks::register(settings, store, Ok(&client), company_id, now)
                .await
                .unwrap_or_else(|e| HookOutcome::Failed {
                    destination_url: crate::hooks::wanted_url(settings, company_id)
                        .unwrap_or_default(),
                    error: format!("the store: {e}"),
                }),
        );
    }
    Ok(Connected {
        connection,
        workforce,
        compliance,
        saved: !request.check_only,
        connected_before,
        webhook,
    })
}

/// The authorization-code grant: exchange the code a person got from Procore for the first
/// token pair (kept, sealed, in the store), or say where to get one.
async fn authorize(
    settings: &Settings,
    store: &Store,
    connection: &Connection,
    code: Option<&SecretString>,
) -> Result<(), ConnectError> {
    let Some(code) = code else {
        if store.load_tokens(connection.company_id).await?.is_some() {
            return Ok(());
        }
        let (_, login) = settings.procore.bases().map_err(OpenError::from)?;
        let url = procore::auth::authorize_url(
            &login,
            &connection.client_id,
            &settings.procore.redirect_uri,
            None,
        )
        .map_err(ConnectError::LoginUrl)?;
        return Err(ConnectError::NotAuthorized {
            company_id: connection.company_id,
            url,
        });
    };
    let config = config_for(settings, connection, store)?;
    procore::auth::exchange_code(&config, code.expose_secret())
        .await
        .map_err(ConnectError::CodeRefused)?;
    Ok(())
}
