//! `compliance profile|certificate|waiver`: entering and changing the records trestle is the
//! system of record for, one at a time, from the command line.
//!
//! Each command writes the store and nothing else; the next `sync compliance` evaluates what
//! it finds there, so there is no second copy to keep in step. Structured input (a profile's
//! requirements, a whole certificate) can come as a JSON document in the import format's shape
//! (docs/compliance-import.md), and the same domain validation as an import checks it.

use crate::output::{shown, table};
use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use domain::compliance::{
    money, AppliesTo, Certificate, CertificateId, Check, ComplianceData, ComplianceProfile,
    Currency, Endorsement, LimitKind, Party, PartyId, Policy, ProfileId, Project, Requirement,
    Subject, Waiver, WaiverId, WaiverKind, WaiverScope, WaiverTarget, FORMAT_VERSION,
};
use rust_decimal::Decimal;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use store::Store;

// ---- parsing what people type ----

/// An amount as people write it: "$1,000,000", "1000000", "2500.50". Commas must group
/// thousands, so a slip like "1,000,00" is caught rather than read as 100,000.
pub fn parse_money(s: &str) -> Result<Decimal, String> {
    let hint = "write e.g. \"$1,000,000\" or \"1000000\"";
    let t = s.trim();
    let t = t.strip_prefix('$').unwrap_or(t).trim();
    if t.is_empty() {
        return Err(format!("\"{s}\" is not an amount; {hint}"));
    }
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.contains(',') {
        let groups: Vec<&str> = whole.split(',').collect();
        let first_ok = (1..=3).contains(&groups[0].len());
        if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
            return Err(format!(
                "\"{s}\" is not an amount: commas must separate groups of three digits; {hint}"
            ));
        }
    }
    let digits = format!(
        "{}{}{frac}",
        whole.replace(',', ""),
        if frac.is_empty() { "" } else { "." }
    );
    let ok = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1;
    let amount: Decimal = match ok.then(|| digits.parse().ok()).flatten() {
        Some(a) => a,
        None => {
            return Err(format!(
                "\"{s}\" is not an amount; {hint} (no minus sign, no letters)"
            ))
        }
    };
    Ok(amount)
}

pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("\"{s}\" is not a date; write YYYY-MM-DD, e.g. 2026-12-31"))
}

/// A snake_case serde name from what people type ("Each Occurrence", "each-occurrence").
fn serde_name<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    let name = s.trim().to_lowercase().replace(['-', ' '], "_");
    serde_json::from_value(serde_json::Value::String(name)).ok()
}

pub fn parse_subject(s: &str) -> Result<Subject, String> {
    let alias = match s.trim().to_lowercase().as_str() {
        "gl" | "cgl" => Some(Subject::GeneralLiability),
        "auto" | "al" => Some(Subject::AutomobileLiability),
        "umbrella" | "excess" => Some(Subject::UmbrellaExcess),
        "wc" => Some(Subject::WorkersCompensation),
        _ => None,
    };
    alias.or_else(|| serde_name(s)).ok_or_else(|| {
        format!(
            "\"{s}\" is not a subject; use general-liability (gl), automobile-liability (auto), \
             umbrella-excess (umbrella) or workers-compensation (wc)"
        )
    })
}

const LIMIT_NAMES: &str = "general liability: each-occurrence, damage-to-rented-premises, \
    medical-expense, personal-and-advertising-injury, general-aggregate, \
    products-completed-operations-aggregate; automobile: combined-single-limit, \
    bodily-injury-per-person, bodily-injury-per-accident, property-damage-per-accident; \
    umbrella: umbrella-each-occurrence, umbrella-aggregate; workers compensation: \
    el-each-accident, el-disease-each-employee, el-disease-policy-limit";

pub fn parse_limit(s: &str) -> Result<LimitKind, String> {
    serde_name(s).ok_or_else(|| format!("\"{s}\" is not a limit; the limits are {LIMIT_NAMES}"))
}

pub fn parse_endorsement(s: &str) -> Result<Endorsement, String> {
    serde_name(s).ok_or_else(|| {
        format!(
            "\"{s}\" is not an endorsement; use additional-insured, waiver-of-subrogation or \
             primary-non-contributory"
        )
    })
}

/// `LIMIT=AMOUNT`, e.g. `each-occurrence=$1,000,000`.
pub fn parse_limit_amount(s: &str) -> Result<(LimitKind, Decimal), String> {
    let (limit, amount) = s.split_once('=').ok_or_else(|| {
        format!("\"{s}\" needs the form LIMIT=AMOUNT, e.g. each-occurrence=1000000")
    })?;
    Ok((parse_limit(limit)?, parse_money(amount)?))
}

/// `SUBJECT=ENDORSEMENT`, e.g. `gl=additional-insured`.
pub fn parse_subject_endorsement(s: &str) -> Result<(Subject, Endorsement), String> {
    let (subject, endorsement) = s.split_once('=').ok_or_else(|| {
        format!("\"{s}\" needs the form SUBJECT=ENDORSEMENT, e.g. gl=additional-insured")
    })?;
    Ok((parse_subject(subject)?, parse_endorsement(endorsement)?))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CurrencyArg {
    Usd,
    Cad,
}

impl From<CurrencyArg> for Currency {
    fn from(c: CurrencyArg) -> Currency {
        match c {
            CurrencyArg::Usd => Currency::Usd,
            CurrencyArg::Cad => Currency::Cad,
        }
    }
}

/// Reads a JSON document for one record, filling the fields the command already knows (the
/// record's id and owner) so the file can leave them out.
fn read_record<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &str,
    defaults: &[(&str, serde_json::Value)],
) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let object = value
        .as_object_mut()
        .with_context(|| format!("{} must hold one {what} as a JSON object", path.display()))?;
    for (key, v) in defaults {
        object.entry(*key).or_insert_with(|| v.clone());
    }
    serde_json::from_value(value).map_err(|e| {
        let hint = if e.to_string().contains("Decimal") {
            " (amounts are strings, e.g. \"1000000\", so no precision is lost)"
        } else {
            ""
        };
        anyhow::anyhow!(
            "{} is not a {what} in the import format: {e}{hint}; nothing was changed (see docs/compliance-import.md)",
            path.display()
        )
    })
}

/// The domain's import validation, for records entered one at a time.
fn check(data: ComplianceData) -> Result<()> {
    let problems = ComplianceData {
        version: FORMAT_VERSION,
        ..data
    }
    .problems();
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        bail!("{}; nothing was changed", list.join("; "));
    }
    Ok(())
}

/// A party named by its trestle id or by its name (ignoring case).
async fn find_party(store: &Store, company: i64, asked: &str) -> Result<Party> {
    let parties = store.parties(company).await?;
    let found: Vec<&Party> = match asked.trim().parse::<i64>() {
        Ok(id) => parties.iter().filter(|p| p.id.0 == id).collect(),
        Err(_) => parties
            .iter()
            .filter(|p| p.name.eq_ignore_ascii_case(asked.trim()))
            .collect(),
    };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let known: Vec<String> = parties
                .iter()
                .take(10)
                .map(|p| format!("{} ({})", p.name, p.id))
                .collect();
            if known.is_empty() {
                bail!("no party \"{asked}\": there are no parties yet; `trestle sync compliance` or `trestle compliance import` brings them in")
            }
            bail!(
                "no party \"{asked}\"; give a party's id or exact name, e.g. {}",
                known.join(", ")
            )
        }
        many => bail!(
            "{} parties are named \"{asked}\"; give the id of one: {}",
            many.len(),
            many.iter()
                .map(|p| p.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A compliance project named by its trestle id or its name (ignoring case).
async fn find_project(store: &Store, company: i64, asked: &str) -> Result<Project> {
    let projects: Vec<Project> = store
        .compliance_projects(company)
        .await?
        .into_iter()
        .map(|r| r.project)
        .collect();
    let found: Vec<&Project> = match asked.trim().parse::<i64>() {
        Ok(id) => projects.iter().filter(|p| p.id.0 == id).collect(),
        Err(_) => projects
            .iter()
            .filter(|p| p.name.eq_ignore_ascii_case(asked.trim()))
            .collect(),
    };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!("no compliance project \"{asked}\"; give a project's trestle id or exact name"),
        many => bail!(
            "{} projects are named \"{asked}\"; give the id of one",
            many.len()
        ),
    }
}

fn party_name(parties: &[Party], id: PartyId) -> String {
    parties
        .iter()
        .find(|p| p.id == id)
        .map_or_else(|| format!("party {id}"), |p| format!("{} ({id})", p.name))
}

// ---- profiles ----

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Create a profile or change one. Requirement flags add a requirement or change the one
    /// checking the same thing; `--from FILE` replaces all of them with the file's. Prints the
    /// profile as saved.
    Set(ProfileSetArgs),
    /// Every profile, with how many requirements it has.
    List,
    /// A profile's requirements, by subject (`--json`: in the import format, to edit and give
    /// back with `profile set NAME --from FILE`).
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a profile no party or party-project uses.
    Remove { name: String },
}

#[derive(Debug, Args)]
pub struct ProfileSetArgs {
    /// The profile's name (what the "Compliance Profile" commitment field names).
    pub name: String,
    /// One profile as JSON, in the shape of the import format's `profiles` entry (`id` and
    /// `name` may be left out).
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// A minimum limit, e.g. `--min each-occurrence='$1,000,000'` (repeatable).
    #[arg(long, value_name = "LIMIT=AMOUNT", value_parser = parse_limit_amount)]
    pub min: Vec<(LimitKind, Decimal)>,
    /// A required endorsement, e.g. `--endorsement gl=additional-insured` (repeatable).
    #[arg(long, value_name = "SUBJECT=ENDORSEMENT", value_parser = parse_subject_endorsement)]
    pub endorsement: Vec<(Subject, Endorsement)>,
    /// Workers compensation must be statutory.
    #[arg(long)]
    pub statutory_wc: bool,
    /// Any in-force policy for the subject will do (repeatable).
    #[arg(long, value_name = "SUBJECT", value_parser = parse_subject)]
    pub coverage: Vec<Subject>,
    /// Remove the requirement with this key (repeatable).
    #[arg(long, value_name = "KEY")]
    pub remove_requirement: Vec<String>,
    /// The currency of the minimums (default USD).
    #[arg(long)]
    pub currency: Option<CurrencyArg>,
    /// Days before expiration a policy counts as expiring soon (default 30).
    #[arg(long)]
    pub expiring_within_days: Option<u32>,
}

fn subject_prefix(s: Subject) -> &'static str {
    match s {
        Subject::GeneralLiability => "gl",
        Subject::AutomobileLiability => "auto",
        Subject::UmbrellaExcess => "umbrella",
        Subject::WorkersCompensation => "wc",
    }
}

fn key_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Adds a requirement, or changes the one that checks the same thing (keeping its key, which
/// waivers point at). A changed check drops a hand-written label, which described the old one.
fn put_requirement(requirements: &mut Vec<Requirement>, subject: Subject, check: Check) {
    let same = |r: &Requirement| match (&r.check, &check) {
        (Check::LimitAtLeast { limit: a, .. }, Check::LimitAtLeast { limit: b, .. }) => a == b,
        (a, b) => r.subject == subject && a == b,
    };
    if let Some(r) = requirements.iter_mut().find(|r| same(r)) {
        if r.check != check {
            r.check = check;
            r.label = None;
        }
        return;
    }
    let what = match &check {
        Check::LimitAtLeast { limit, .. } => key_name(limit),
        Check::Endorsement { endorsement } => key_name(endorsement),
        Check::Statutory => "statutory".into(),
        Check::CoveragePresent => "coverage".into(),
    };
    requirements.push(Requirement {
        key: format!("{}.{what}", subject_prefix(subject)),
        subject,
        check,
        label: None,
    });
}

pub async fn profile(store: &Store, company: i64, command: ProfileCommand) -> Result<()> {
    match command {
        ProfileCommand::Set(args) => {
            let existing = store.profile_by_name(company, &args.name).await?;
            let mut profile = match (&args.from, existing) {
                (Some(path), existing) => {
                    let mut p: ComplianceProfile = read_record(
                        path,
                        "compliance profile",
                        &[
                            ("id", serde_json::json!(0)),
                            ("name", serde_json::json!(args.name)),
                        ],
                    )?;
                    if p.name != args.name {
                        bail!(
                            "{} names profile \"{}\" but the command names \"{}\"; make them agree",
                            path.display(),
                            p.name,
                            args.name
                        );
                    }
                    p.id = existing.map_or(ProfileId(0), |e| e.id);
                    p
                }
                (None, Some(existing)) => existing,
                (None, None) => ComplianceProfile {
                    id: ProfileId(0),
                    name: args.name.clone(),
                    currency: Currency::default(),
                    expiring_within_days: domain::compliance::DEFAULT_EXPIRING_WITHIN_DAYS,
                    requirements: Vec::new(),
                },
            };
            for (limit, minimum) in &args.min {
                let check = Check::LimitAtLeast {
                    limit: *limit,
                    minimum: *minimum,
                };
                put_requirement(&mut profile.requirements, limit.subject(), check);
            }
            for (subject, endorsement) in &args.endorsement {
                let check = Check::Endorsement {
                    endorsement: *endorsement,
                };
                put_requirement(&mut profile.requirements, *subject, check);
            }
            if args.statutory_wc {
                put_requirement(
                    &mut profile.requirements,
                    Subject::WorkersCompensation,
                    Check::Statutory,
                );
            }
            for subject in &args.coverage {
                put_requirement(&mut profile.requirements, *subject, Check::CoveragePresent);
            }
            for key in &args.remove_requirement {
                let before = profile.requirements.len();
                profile.requirements.retain(|r| &r.key != key);
                if profile.requirements.len() == before {
                    let keys: Vec<&str> = profile
                        .requirements
                        .iter()
                        .map(|r| r.key.as_str())
                        .collect();
                    bail!(
                        "profile \"{}\" has no requirement \"{key}\"; its keys are: {}",
                        args.name,
                        keys.join(", ")
                    );
                }
            }
            if let Some(c) = args.currency {
                profile.currency = c.into();
            }
            if let Some(days) = args.expiring_within_days {
                profile.expiring_within_days = days;
            }
            if profile.requirements.is_empty() {
                bail!(
                    "profile \"{}\" would have no requirement, so every party would pass it; give one, e.g. --min each-occurrence='$1,000,000' or --from FILE",
                    args.name
                );
            }
            check(ComplianceData {
                profiles: vec![profile.clone()],
                ..Default::default()
            })?;
            let id = store.upsert_profile(company, &profile).await?;
            profile.id = id;
            outln!("Saved profile \"{}\" (id {id}):", profile.name);
            out!("{}", describe_profile(&profile));
            Ok(())
        }
        ProfileCommand::List => {
            let profiles = store.profiles(company).await?;
            if profiles.is_empty() {
                outln!("No compliance profiles yet; `trestle compliance profile set NAME --min ...` makes one.");
                return Ok(());
            }
            let mut rows = vec![vec![
                "id".into(),
                "name".into(),
                "currency".into(),
                "expiring soon".into(),
                "requirements".into(),
            ]];
            for p in &profiles {
                rows.push(vec![
                    p.id.to_string(),
                    p.name.clone(),
                    p.currency.code().into(),
                    format!("{} days", p.expiring_within_days),
                    p.requirements.len().to_string(),
                ]);
            }
            out!("{}", table(&rows));
            Ok(())
        }
        ProfileCommand::Show { name, json } => {
            let profile = store
                .profile_by_name(company, &name)
                .await?
                .with_context(|| {
                    format!(
                        "no profile named \"{name}\"; `trestle compliance profile list` shows them"
                    )
                })?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&profile)?);
            } else {
                out!("{}", describe_profile(&profile));
            }
            Ok(())
        }
        ProfileCommand::Remove { name } => {
            if !store.remove_profile(company, &name).await? {
                bail!("no profile named \"{name}\"; nothing was removed");
            }
            outln!("Removed profile \"{name}\".");
            Ok(())
        }
    }
}

fn describe_profile(p: &ComplianceProfile) -> String {
    let mut out = format!(
        "Profile \"{}\" (id {}, {}, expiring soon within {} days)\n",
        p.name,
        p.id,
        p.currency.code(),
        p.expiring_within_days
    );
    for subject in Subject::ALL {
        let rows: Vec<&Requirement> = p
            .requirements
            .iter()
            .filter(|r| r.subject == subject)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {subject}");
        for r in rows {
            let _ = writeln!(out, "    {:<28} {}", r.key, r.label(p.currency));
        }
    }
    out
}

// ---- certificates ----

#[derive(Debug, Subcommand)]
pub enum CertificateCommand {
    /// Add a certificate of a party: one policy from the flags, or a whole certificate with
    /// `--from FILE` (the import format's `certificates` entry; `id` and `party_id` may be left
    /// out). Add more policies with `policy-set`.
    Add(CertificateAddArgs),
    /// The certificates, one line per policy.
    List {
        /// Only this party's (trestle id or name).
        #[arg(long)]
        party: Option<String>,
    },
    /// One certificate with its policies, limits and endorsements (`--json`: in the import
    /// format).
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Replace a certificate whole with a JSON document (as `show --json` prints it).
    Replace {
        id: i64,
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// Remove a certificate.
    Remove { id: i64 },
    /// Change the certificate's policy for a subject (only the fields given), or add one.
    PolicySet(PolicySetArgs),
    /// Remove the certificate's policy for a subject.
    PolicyRemove {
        id: i64,
        #[arg(long, value_parser = parse_subject)]
        subject: Subject,
    },
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// general-liability (gl), automobile-liability (auto), umbrella-excess (umbrella),
    /// workers-compensation (wc).
    #[arg(long, value_parser = parse_subject)]
    pub subject: Option<Subject>,
    /// The insurer as printed (INSURER A, B, ...).
    #[arg(long)]
    pub insurer: Option<String>,
    /// The insurer's NAIC number.
    #[arg(long)]
    pub naic: Option<String>,
    /// The policy number; with the party, what identifies the certificate.
    #[arg(long)]
    pub policy_number: Option<String>,
    /// First day of cover (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub effective: Option<NaiveDate>,
    /// Last day of cover, inclusive (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub expires: Option<NaiveDate>,
    /// A limit as printed, e.g. `--limit each-occurrence='$1,000,000'` (repeatable).
    #[arg(long, value_name = "LIMIT=AMOUNT", value_parser = parse_limit_amount)]
    pub limit: Vec<(LimitKind, Decimal)>,
    /// An endorsement the policy carries (repeatable; replaces the policy's list).
    #[arg(long, value_parser = parse_endorsement)]
    pub endorsement: Vec<Endorsement>,
    /// Workers compensation written per statute (`--statutory false` to undo).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub statutory: Option<bool>,
}

#[derive(Debug, Args)]
pub struct CertificateAddArgs {
    /// The party (trestle id or exact name).
    #[arg(long)]
    pub party: String,
    /// The whole certificate as JSON, instead of the policy flags.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["subject", "insurer", "naic", "policy_number", "effective", "expires", "limit", "endorsement", "statutory"])]
    pub from: Option<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Evidence only on this project (trestle id or name; repeatable); default all projects.
    #[arg(long)]
    pub project: Vec<String>,
    /// When the certificate was received (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub received_on: Option<NaiveDate>,
    /// The currency of the limits (default USD).
    #[arg(long)]
    pub currency: Option<CurrencyArg>,
    /// The agency that issued the certificate.
    #[arg(long)]
    pub producer: Option<String>,
    /// The certificate holder as printed.
    #[arg(long)]
    pub holder: Option<String>,
}

#[derive(Debug, Args)]
pub struct PolicySetArgs {
    /// The certificate id (`certificate list` shows them).
    pub id: i64,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Remove a limit from the policy (repeatable).
    #[arg(long, value_parser = parse_limit)]
    pub remove_limit: Vec<LimitKind>,
}

/// A new policy from flags: everything a coverage row cannot go without must be given.
fn new_policy(args: &PolicyArgs) -> Result<Policy> {
    let mut missing = Vec::new();
    if args.subject.is_none() {
        missing.push("--subject");
    }
    if args.insurer.is_none() {
        missing.push("--insurer");
    }
    if args.policy_number.is_none() {
        missing.push("--policy-number");
    }
    if args.effective.is_none() {
        missing.push("--effective");
    }
    if args.expires.is_none() {
        missing.push("--expires");
    }
    let (Some(subject), Some(insurer), Some(policy_number), Some(effective), Some(expires)) = (
        args.subject,
        &args.insurer,
        &args.policy_number,
        args.effective,
        args.expires,
    ) else {
        bail!("a new policy needs {}", missing.join(", "));
    };
    Ok(Policy {
        subject,
        insurer: insurer.clone(),
        naic: args.naic.clone(),
        policy_number: policy_number.clone(),
        effective_date: effective,
        expiration_date: expires,
        limits: args.limit.iter().copied().collect(),
        endorsements: args.endorsement.clone(),
        statutory: args.statutory.unwrap_or(false),
    })
}

/// Checks a certificate as an import would, against the company's parties and projects.
async fn check_certificate(store: &Store, company: i64, c: &Certificate) -> Result<()> {
    let parties = store
        .parties(company)
        .await?
        .into_iter()
        .map(|p| Party {
            profile_id: None,
            ..p
        })
        .collect();
    let projects = store
        .compliance_projects(company)
        .await?
        .into_iter()
        .map(|r| r.project)
        .collect();
    check(ComplianceData {
        parties,
        projects,
        certificates: vec![c.clone()],
        ..Default::default()
    })
}

async fn certificate_by_id(store: &Store, company: i64, id: i64) -> Result<Certificate> {
    store
        .certificates(company)
        .await?
        .into_iter()
        .find(|c| c.id.0 == id)
        .with_context(|| {
            format!("no certificate {id}; `trestle compliance certificate list` shows them")
        })
}

pub async fn certificate(store: &Store, company: i64, command: CertificateCommand) -> Result<()> {
    match command {
        CertificateCommand::Add(args) => {
            let party = find_party(store, company, &args.party).await?;
            let mut c: Certificate = match &args.from {
                Some(path) => read_record(
                    path,
                    "certificate",
                    &[
                        ("id", serde_json::json!(0)),
                        ("party_id", serde_json::json!(party.id)),
                    ],
                )?,
                None => Certificate {
                    id: CertificateId(0),
                    party_id: party.id,
                    applies_to: AppliesTo::AllProjects,
                    received_on: None,
                    currency: Currency::default(),
                    producer: None,
                    holder: None,
                    policies: vec![new_policy(&args.policy)?],
                },
            };
            if c.party_id != party.id {
                bail!(
                    "the file names party {} but --party names {}; make them agree",
                    c.party_id,
                    party.id
                );
            }
            if !args.project.is_empty() {
                let mut ids = Vec::new();
                for p in &args.project {
                    ids.push(find_project(store, company, p).await?.id);
                }
                c.applies_to = AppliesTo::Projects(ids);
            }
            c.received_on = args.received_on.or(c.received_on);
            if let Some(currency) = args.currency {
                c.currency = currency.into();
            }
            c.producer = args.producer.or(c.producer);
            c.holder = args.holder.or(c.holder);
            check_certificate(store, company, &c).await?;
            c.id = store.add_certificate(company, &c).await?;
            outln!("Added certificate {} for {}:", c.id, shown(&party.name));
            out!("{}", describe_certificate(&c, &party.name));
            outln!("The next `trestle sync compliance` evaluates it.");
            Ok(())
        }
        CertificateCommand::List { party } => {
            let parties = store.parties(company).await?;
            let only = match party {
                Some(p) => Some(find_party(store, company, &p).await?.id),
                None => None,
            };
            let certificates: Vec<Certificate> = store
                .certificates(company)
                .await?
                .into_iter()
                .filter(|c| only.is_none_or(|p| c.party_id == p))
                .collect();
            if certificates.is_empty() {
                outln!("No certificates.");
                return Ok(());
            }
            let mut rows = vec![vec![
                "certificate".into(),
                "party".into(),
                "subject".into(),
                "policy".into(),
                "insurer".into(),
                "effective".into(),
                "expires".into(),
                "applies to".into(),
            ]];
            for c in &certificates {
                let applies = applies_label(&c.applies_to);
                if c.policies.is_empty() {
                    rows.push(vec![
                        c.id.to_string(),
                        party_name(&parties, c.party_id),
                        "(no policy)".into(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        applies.clone(),
                    ]);
                }
                for p in &c.policies {
                    rows.push(vec![
                        c.id.to_string(),
                        party_name(&parties, c.party_id),
                        subject_prefix(p.subject).into(),
                        p.policy_number.clone(),
                        p.insurer.clone(),
                        p.effective_date.to_string(),
                        p.expiration_date.to_string(),
                        applies.clone(),
                    ]);
                }
            }
            out!("{}", table(&rows));
            Ok(())
        }
        CertificateCommand::Show { id, json } => {
            let c = certificate_by_id(store, company, id).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&c)?);
            } else {
                let parties = store.parties(company).await?;
                out!(
                    "{}",
                    describe_certificate(&c, &party_name(&parties, c.party_id))
                );
            }
            Ok(())
        }
        CertificateCommand::Replace { id, from } => {
            let old = certificate_by_id(store, company, id).await?;
            let mut c: Certificate = read_record(
                &from,
                "certificate",
                &[
                    ("id", serde_json::json!(id)),
                    ("party_id", serde_json::json!(old.party_id)),
                ],
            )?;
            c.id = old.id;
            check_certificate(store, company, &c).await?;
            store.replace_certificate(company, &c).await?;
            outln!("Replaced certificate {id}; the next `trestle sync compliance` evaluates it.");
            Ok(())
        }
        CertificateCommand::Remove { id } => {
            if !store.remove_certificate(company, CertificateId(id)).await? {
                bail!("no certificate {id}; nothing was removed");
            }
            outln!("Removed certificate {id}.");
            Ok(())
        }
        CertificateCommand::PolicySet(args) => {
            let mut c = certificate_by_id(store, company, args.id).await?;
            let Some(subject) = args.policy.subject else {
                bail!("say which policy with --subject (gl, auto, umbrella or wc)");
            };
            match c.policies.iter_mut().find(|p| p.subject == subject) {
                Some(p) => {
                    let a = &args.policy;
                    if let Some(v) = &a.insurer {
                        p.insurer = v.clone();
                    }
                    if let Some(v) = &a.naic {
                        p.naic = Some(v.clone());
                    }
                    if let Some(v) = &a.policy_number {
                        p.policy_number = v.clone();
                    }
                    if let Some(v) = a.effective {
                        p.effective_date = v;
                    }
                    if let Some(v) = a.expires {
                        p.expiration_date = v;
                    }
                    for (limit, amount) in &a.limit {
                        p.limits.insert(*limit, *amount);
                    }
                    for limit in &args.remove_limit {
                        p.limits.remove(limit);
                    }
                    if !a.endorsement.is_empty() {
                        p.endorsements = a.endorsement.clone();
                    }
                    if let Some(v) = a.statutory {
                        p.statutory = v;
                    }
                }
                None => c.policies.push(new_policy(&args.policy)?),
            }
            check_certificate(store, company, &c).await?;
            store.replace_certificate(company, &c).await?;
            let parties = store.parties(company).await?;
            outln!("Changed certificate {}:", c.id);
            out!(
                "{}",
                describe_certificate(&c, &party_name(&parties, c.party_id))
            );
            outln!("The next `trestle sync compliance` evaluates it.");
            Ok(())
        }
        CertificateCommand::PolicyRemove { id, subject } => {
            let mut c = certificate_by_id(store, company, id).await?;
            let before = c.policies.len();
            c.policies.retain(|p| p.subject != subject);
            if c.policies.len() == before {
                bail!("certificate {id} has no {subject} policy; nothing was removed");
            }
            store.replace_certificate(company, &c).await?;
            outln!("Removed the {subject} policy from certificate {id}.");
            Ok(())
        }
    }
}

fn applies_label(a: &AppliesTo) -> String {
    match a {
        AppliesTo::AllProjects => "all projects".into(),
        AppliesTo::Projects(ids) => format!(
            "projects {}",
            ids.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn describe_certificate(c: &Certificate, party: &str) -> String {
    let mut out = format!(
        "Certificate {} of {party}, for {}",
        c.id,
        applies_label(&c.applies_to)
    );
    if let Some(d) = c.received_on {
        let _ = write!(out, ", received {d}");
    }
    out.push('\n');
    for (what, v) in [("producer", &c.producer), ("holder", &c.holder)] {
        if let Some(v) = v {
            let _ = writeln!(out, "  {what}: {v}");
        }
    }
    for p in &c.policies {
        let _ = writeln!(
            out,
            "  {}: {} with {}{}, {} to {}",
            p.subject,
            p.policy_number,
            p.insurer,
            p.naic
                .as_ref()
                .map_or(String::new(), |n| format!(" (NAIC {n})")),
            p.effective_date,
            p.expiration_date
        );
        for (limit, amount) in &p.limits {
            let _ = writeln!(out, "    {}: {}", limit.label(), money(*amount, c.currency));
        }
        if !p.endorsements.is_empty() {
            let names: Vec<&str> = p.endorsements.iter().map(|e| e.label()).collect();
            let _ = writeln!(out, "    endorsements: {}", names.join(", "));
        }
        if p.statutory {
            let _ = writeln!(out, "    per statute");
        }
    }
    out
}

// ---- waivers ----

#[derive(Debug, Subcommand)]
pub enum WaiverCommand {
    /// Waive a requirement or subject (not required), or override it (treat as met), with a
    /// reason and an optional last day.
    Add(WaiverAddArgs),
    /// The waivers and overrides.
    List {
        /// Only this party's (trestle id or name).
        #[arg(long)]
        party: Option<String>,
    },
    /// Remove a waiver or override; the requirement is evaluated on the evidence again.
    Remove { id: i64 },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WaiverKindArg {
    /// Not required.
    Waive,
    /// Treat as met although the evidence fails.
    Override,
}

#[derive(Debug, Args)]
pub struct WaiverAddArgs {
    /// The party (trestle id or exact name).
    #[arg(long)]
    pub party: String,
    /// The requirement key (`profile show NAME` lists them).
    #[arg(long, required_unless_present = "subject", conflicts_with = "subject")]
    pub requirement: Option<String>,
    /// A whole subject.
    #[arg(long, value_parser = parse_subject)]
    pub subject: Option<Subject>,
    #[arg(long, value_enum, default_value = "waive")]
    pub kind: WaiverKindArg,
    /// Why (an auditor will ask).
    #[arg(long)]
    pub reason: String,
    /// The last day it applies (YYYY-MM-DD); without it, until removed.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub until: Option<NaiveDate>,
    /// Only on this project (trestle id or name); default: the party's global compliance.
    #[arg(long, conflicts_with = "everywhere")]
    pub project: Option<String>,
    /// On global compliance and every project.
    #[arg(long)]
    pub everywhere: bool,
}

pub async fn waiver(store: &Store, company: i64, command: WaiverCommand) -> Result<()> {
    match command {
        WaiverCommand::Add(args) => {
            let party = find_party(store, company, &args.party).await?;
            let target = match (&args.requirement, args.subject) {
                (Some(key), _) => {
                    let profiles = store.profiles(company).await?;
                    let known = profiles
                        .iter()
                        .flat_map(|p| &p.requirements)
                        .any(|r| &r.key == key);
                    if !known {
                        bail!("no profile has a requirement \"{key}\"; `trestle compliance profile show NAME` lists the keys");
                    }
                    WaiverTarget::Requirement(key.clone())
                }
                (None, Some(subject)) => WaiverTarget::Subject(subject),
                (None, None) => bail!("say what is waived: --requirement KEY or --subject SUBJECT"),
            };
            let scope = match (&args.project, args.everywhere) {
                (Some(p), _) => WaiverScope::Project(find_project(store, company, p).await?.id),
                (None, true) => WaiverScope::Everywhere,
                (None, false) => WaiverScope::Global,
            };
            if args.reason.trim().is_empty() {
                bail!("a waiver needs a reason; say why it was granted with --reason");
            }
            let w = Waiver {
                id: WaiverId(0),
                party_id: party.id,
                scope,
                target,
                kind: match args.kind {
                    WaiverKindArg::Waive => WaiverKind::Waive,
                    WaiverKindArg::Override => WaiverKind::Override,
                },
                reason: args.reason.trim().to_string(),
                until: args.until,
            };
            let id = store.add_waiver(company, &w).await?;
            outln!(
                "Added waiver {id} for {}: {}. The next `trestle sync compliance` applies it.",
                shown(&party.name),
                describe_waiver(&w)
            );
            Ok(())
        }
        WaiverCommand::List { party } => {
            let parties = store.parties(company).await?;
            let only = match party {
                Some(p) => Some(find_party(store, company, &p).await?.id),
                None => None,
            };
            let waivers: Vec<Waiver> = store
                .waivers(company)
                .await?
                .into_iter()
                .filter(|w| only.is_none_or(|p| w.party_id == p))
                .collect();
            if waivers.is_empty() {
                outln!("No waivers or overrides.");
                return Ok(());
            }
            let today = chrono::Utc::now().date_naive();
            let mut rows = vec![vec![
                "id".into(),
                "party".into(),
                "kind".into(),
                "of".into(),
                "where".into(),
                "until".into(),
                "reason".into(),
            ]];
            for w in &waivers {
                rows.push(vec![
                    w.id.to_string(),
                    party_name(&parties, w.party_id),
                    kind_label(w.kind).into(),
                    target_label(&w.target),
                    scope_label(w.scope),
                    match w.until {
                        Some(d) if !w.is_live(today) => format!("{d} (ended)"),
                        Some(d) => d.to_string(),
                        None => "until removed".into(),
                    },
                    w.reason.clone(),
                ]);
            }
            out!("{}", table(&rows));
            Ok(())
        }
        WaiverCommand::Remove { id } => {
            if !store.remove_waiver(company, WaiverId(id)).await? {
                bail!("no waiver {id}; nothing was removed");
            }
            outln!("Removed waiver {id}.");
            Ok(())
        }
    }
}

fn kind_label(k: WaiverKind) -> &'static str {
    match k {
        WaiverKind::Waive => "waive",
        WaiverKind::Override => "override",
    }
}

fn target_label(t: &WaiverTarget) -> String {
    match t {
        WaiverTarget::Requirement(key) => format!("requirement {key}"),
        WaiverTarget::Subject(s) => s.label().to_string(),
    }
}

fn scope_label(s: WaiverScope) -> String {
    match s {
        WaiverScope::Global => "global".into(),
        WaiverScope::Everywhere => "everywhere".into(),
        WaiverScope::Project(p) => format!("project {p}"),
    }
}

fn describe_waiver(w: &Waiver) -> String {
    let mut out = format!(
        "{} {} ({})",
        kind_label(w.kind),
        target_label(&w.target),
        scope_label(w.scope)
    );
    if let Some(d) = w.until {
        let _ = write!(out, " until {d}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_with_or_without_dollar_sign_and_separators() {
        for (typed, exact) in [
            ("$1,000,000", "1000000"),
            ("1000000", "1000000"),
            ("1,000,000", "1000000"),
            (" $2,500.50 ", "2500.50"),
            ("999", "999"),
        ] {
            assert_eq!(parse_money(typed), Ok(exact.parse().unwrap()), "{typed}");
        }
    }

    #[test]
    fn a_misplaced_comma_or_a_sign_is_refused_with_what_to_write() {
        for typed in [
            "1,000,00",
            "10,00",
            "-5",
            "1e6",
            "",
            "$",
            "1.000.000",
            "one million",
        ] {
            let err = parse_money(typed).unwrap_err();
            assert!(err.contains("1,000,000"), "{typed}: {err}");
        }
    }

    #[test]
    fn subjects_limits_and_endorsements_are_read_in_kebab_or_snake_case() {
        assert_eq!(parse_subject("gl"), Ok(Subject::GeneralLiability));
        assert_eq!(
            parse_subject("workers-compensation"),
            Ok(Subject::WorkersCompensation)
        );
        assert_eq!(
            parse_limit_amount("each-occurrence=$1,000,000"),
            Ok((LimitKind::EachOccurrence, "1000000".parse().unwrap()))
        );
        assert_eq!(
            parse_subject_endorsement("gl=waiver_of_subrogation"),
            Ok((Subject::GeneralLiability, Endorsement::WaiverOfSubrogation))
        );
        assert!(parse_limit("each-occurence")
            .unwrap_err()
            .contains("each-occurrence"));
        assert!(parse_date("2026-13-01").unwrap_err().contains("YYYY-MM-DD"));
    }

    #[test]
    fn changing_a_minimum_keeps_the_requirement_key_that_waivers_point_at() {
        let mut requirements = vec![Requirement {
            key: "auto.csl".into(),
            subject: Subject::AutomobileLiability,
            check: Check::LimitAtLeast {
                limit: LimitKind::CombinedSingleLimit,
                minimum: "500000".parse().unwrap(),
            },
            label: Some("CSL of $500k".into()),
        }];
        let raised = Check::LimitAtLeast {
            limit: LimitKind::CombinedSingleLimit,
            minimum: "1000000".parse().unwrap(),
        };
        put_requirement(
            &mut requirements,
            Subject::AutomobileLiability,
            raised.clone(),
        );
        assert_eq!(requirements.len(), 1);
        assert_eq!(requirements[0].key, "auto.csl");
        assert_eq!(requirements[0].check, raised);
        assert_eq!(requirements[0].label, None, "the old label described $500k");
        put_requirement(
            &mut requirements,
            Subject::GeneralLiability,
            Check::Endorsement {
                endorsement: Endorsement::AdditionalInsured,
            },
        );
        assert_eq!(requirements[1].key, "gl.additional_insured");
    }
}

// ---- parties ----

#[derive(Debug, Subcommand)]
pub enum PartyCommand {
    /// Give a party the profile of its global compliance (also the one its projects use when
    /// their association names none): `set-profile PARTY PROFILE`, or `set-profile PARTY
    /// --none` to stop tracking its compliance. Only the profile changes; the fields Procore
    /// owns stay the sync's.
    SetProfile {
        /// The party's trestle id or exact name (ignoring case).
        party: String,
        /// The profile's exact name (`trestle compliance profile list` lists them).
        #[arg(required_unless_present = "none", conflicts_with = "none")]
        profile: Option<String>,
        /// Take the party's profile away: its global compliance is no longer tracked.
        #[arg(long)]
        none: bool,
    },
}

/// A profile named exactly, else by its name ignoring case when only one matches.
async fn find_profile(store: &Store, company: i64, asked: &str) -> Result<ComplianceProfile> {
    if let Some(p) = store.profile_by_name(company, asked).await? {
        return Ok(p);
    }
    let profiles = store.profiles(company).await?;
    let close: Vec<&ComplianceProfile> = profiles
        .iter()
        .filter(|p| p.name.trim().eq_ignore_ascii_case(asked.trim()))
        .collect();
    if let [one] = close.as_slice() {
        return Ok((*one).clone());
    }
    if profiles.is_empty() {
        bail!("no profile \"{asked}\": there are no profiles yet; `trestle compliance profile set NAME ...` creates one; nothing was changed")
    }
    let names: Vec<String> = profiles.iter().map(|p| format!("\"{}\"", p.name)).collect();
    bail!(
        "no profile \"{asked}\"; the profiles are {}; nothing was changed",
        names.join(", ")
    )
}

pub async fn party(store: &Store, company: i64, command: PartyCommand) -> Result<()> {
    match command {
        PartyCommand::SetProfile {
            party,
            profile,
            none: _,
        } => {
            let party = find_party(store, company, &party).await?;
            let profile = match profile {
                Some(name) => Some(find_profile(store, company, &name).await?),
                None => None,
            };
            store
                .set_party_profile(company, party.id, profile.as_ref().map(|p| p.id))
                .await?;
            match profile {
                Some(p) => outln!(
                    "Party {} \"{}\" now has profile \"{}\"; the next `trestle sync compliance` evaluates it.",
                    party.id,
                    shown(&party.name),
                    p.name
                ),
                None => outln!(
                    "Party {} \"{}\" has no profile now: its global compliance is not tracked.",
                    party.id,
                    shown(&party.name)
                ),
            }
            Ok(())
        }
    }
}
