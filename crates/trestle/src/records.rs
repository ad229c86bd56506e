//! `compliance profile|certificate|waiver|party`: entering and changing the records trestle is
//! the system of record for, one at a time, from the command line.
//!
//! The rules and the store writes are `engine::records`'; this module reads the arguments (and
//! a JSON document in the import format's shape, docs/compliance-import.md, for a whole
//! profile or certificate) and renders the results and errors in the CLI's words.

use crate::output::{shown, table};
use anyhow::{anyhow, Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use domain::compliance::input::{parse_endorsement, parse_limit, parse_money, parse_subject};
use domain::compliance::{
    money, AppliesTo, Certificate, CertificateId, ComplianceProfile, Currency, EditError,
    Endorsement, LimitKind, Party, PartyId, PolicyDraft, PolicyField, ProfileEdit, Requirement,
    Subject, Waiver, WaiverId, WaiverKind, WaiverScope, WaiverTarget,
};
use engine::records::{self, NewCertificate, NewWaiver, RecordError};
use rust_decimal::Decimal;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use store::Store;

/// Dates are read as the domain reads them; other commands' flags use it too.
pub use domain::compliance::input::parse_date;

// ---- parsing what people type ----

/// `LIMIT=AMOUNT`, e.g. `each-occurrence=$1,000,000`.
pub fn parse_limit_amount(s: &str) -> Result<(LimitKind, Decimal), String> {
    let (limit, amount) = s.split_once('=').ok_or_else(|| {
        format!("\"{s}\" needs the form LIMIT=AMOUNT, e.g. each-occurrence=1000000")
    })?;
    let limit = parse_limit(limit).map_err(|e| e.to_string())?;
    Ok((limit, parse_money(amount).map_err(|e| e.to_string())?))
}

/// `SUBJECT=ENDORSEMENT`, e.g. `gl=additional-insured`.
pub fn parse_subject_endorsement(s: &str) -> Result<(Subject, Endorsement), String> {
    let (subject, endorsement) = s.split_once('=').ok_or_else(|| {
        format!("\"{s}\" needs the form SUBJECT=ENDORSEMENT, e.g. gl=additional-insured")
    })?;
    let subject = parse_subject(subject).map_err(|e| e.to_string())?;
    Ok((
        subject,
        parse_endorsement(endorsement).map_err(|e| e.to_string())?,
    ))
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

/// An engine error in the CLI's words: its flags for the engine's field names, and the command
/// that helps.
fn said(e: RecordError) -> anyhow::Error {
    let text = match &e {
        RecordError::NoParties { asked } => format!(
            "no party \"{asked}\": there are no parties yet; `trestle sync compliance` or `trestle compliance import` brings them in"
        ),
        RecordError::NoProfiles { asked } => format!(
            "no profile \"{asked}\": there are no profiles yet; `trestle compliance profile set NAME ...` creates one; nothing was changed"
        ),
        RecordError::NoProfileNamed(name) => {
            format!("no profile named \"{name}\"; `trestle compliance profile list` shows them")
        }
        RecordError::NoCertificate(id) => {
            format!("no certificate {id}; `trestle compliance certificate list` shows them")
        }
        RecordError::NoWaiver(id) => format!("no waiver {id}; nothing was removed"),
        RecordError::PartyMismatch { given, asked } => format!(
            "the file names party {given} but --party names {asked}; make them agree"
        ),
        RecordError::Edit(EditError::NoRequirements(name)) => format!(
            "profile \"{name}\" would have no requirement, so every party would pass it; give one, e.g. --min each-occurrence='$1,000,000' or --from FILE"
        ),
        RecordError::Edit(EditError::PolicyIncomplete(fields)) => {
            let flags: Vec<&str> = fields.iter().map(|f| policy_flag(*f)).collect();
            format!("a new policy needs {}", flags.join(", "))
        }
        RecordError::Edit(EditError::PolicyWithoutSubject) => {
            "say which policy with --subject (gl, auto, umbrella or wc)".into()
        }
        RecordError::Edit(EditError::UnknownRequirementKey(key)) => format!(
            "no profile has a requirement \"{key}\"; `trestle compliance profile show NAME` lists the keys"
        ),
        RecordError::Edit(EditError::NothingWaived) => {
            "say what is waived: --requirement KEY or --subject SUBJECT".into()
        }
        RecordError::Edit(EditError::WaiverWithoutReason) => {
            "a waiver needs a reason; say why it was granted with --reason".into()
        }
        _ => return e.into(),
    };
    anyhow!(text)
}

fn policy_flag(field: PolicyField) -> &'static str {
    match field {
        PolicyField::Subject => "--subject",
        PolicyField::Insurer => "--insurer",
        PolicyField::PolicyNumber => "--policy-number",
        PolicyField::EffectiveDate => "--effective",
        PolicyField::ExpirationDate => "--expires",
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
    List {
        /// Print JSON, in the REST API's shape (`GET
        /// /api/v1/companies/{c}/compliance/profiles`): each profile with its requirements.
        #[arg(long)]
        json: bool,
    },
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

pub async fn profile(store: &Store, company: i64, command: ProfileCommand) -> Result<()> {
    match command {
        ProfileCommand::Set(args) => {
            let whole: Option<ComplianceProfile> = match &args.from {
                Some(path) => Some(read_record(
                    path,
                    "compliance profile",
                    &[
                        ("id", serde_json::json!(0)),
                        ("name", serde_json::json!(args.name)),
                    ],
                )?),
                None => None,
            };
            let edit = ProfileEdit {
                minimums: args.min,
                endorsements: args.endorsement,
                statutory_workers_compensation: args.statutory_wc,
                coverage: args.coverage,
                remove_requirements: args.remove_requirement,
                currency: args.currency.map(Into::into),
                expiring_within_days: args.expiring_within_days,
            };
            let profile = records::set_profile(store, company, &args.name, whole, &edit, None)
                .await
                .map_err(|e| match (e, &args.from) {
                    (RecordError::ProfileNameMismatch { given, asked }, Some(path)) => anyhow!(
                        "{} names profile \"{given}\" but the command names \"{asked}\"; make them agree",
                        path.display()
                    ),
                    (e, _) => said(e),
                })?;
            outln!("Saved profile \"{}\" (id {}):", profile.name, profile.id);
            out!("{}", describe_profile(&profile));
            Ok(())
        }
        ProfileCommand::List { json } => {
            let profiles = store.profiles(company).await?;
            if json {
                return crate::output::print_json(&profiles);
            }
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
            let profile = records::profile_named(store, company, &name)
                .await
                .map_err(said)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&profile)?);
            } else {
                out!("{}", describe_profile(&profile));
            }
            Ok(())
        }
        ProfileCommand::Remove { name } => {
            match records::remove_profile(store, company, &name, None).await {
                Err(RecordError::NoProfileNamed(_)) => {
                    return Err(anyhow!("no profile named \"{name}\"; nothing was removed"))
                }
                done => done.map_err(said)?,
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
        /// Print JSON, in the REST API's shape (`GET
        /// /api/v1/companies/{c}/compliance/parties/{id}/certificates`): each certificate with
        /// its policies.
        #[arg(long)]
        json: bool,
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

/// The policy the flags give: a whole new one, or the fields to change on one.
fn policy_draft(args: &PolicyArgs, remove_limits: &[LimitKind]) -> PolicyDraft {
    PolicyDraft {
        subject: args.subject,
        insurer: args.insurer.clone(),
        naic: args.naic.clone(),
        policy_number: args.policy_number.clone(),
        effective_date: args.effective,
        expiration_date: args.expires,
        limits: args.limit.iter().copied().collect(),
        remove_limits: remove_limits.to_vec(),
        endorsements: (!args.endorsement.is_empty()).then(|| args.endorsement.clone()),
        statutory: args.statutory,
    }
}

pub async fn certificate(store: &Store, company: i64, command: CertificateCommand) -> Result<()> {
    match command {
        CertificateCommand::Add(args) => {
            let party = records::find_party(store, company, &args.party)
                .await
                .map_err(said)?;
            let whole: Option<Certificate> = match &args.from {
                Some(path) => Some(read_record(
                    path,
                    "certificate",
                    &[
                        ("id", serde_json::json!(0)),
                        ("party_id", serde_json::json!(party.id)),
                    ],
                )?),
                None => None,
            };
            let new = NewCertificate {
                whole,
                policy: policy_draft(&args.policy, &[]),
                projects: args.project,
                received_on: args.received_on,
                currency: args.currency.map(Into::into),
                producer: args.producer,
                holder: args.holder,
            };
            let c = records::add_certificate(store, company, party.id, new)
                .await
                .map_err(said)?;
            outln!("Added certificate {} for {}:", c.id, shown(&party.name));
            out!("{}", describe_certificate(&c, &party.name));
            outln!("The next `trestle sync compliance` evaluates it.");
            Ok(())
        }
        CertificateCommand::List { party, json } => {
            let parties = store.parties(company).await?;
            let only = match party {
                Some(p) => Some(
                    records::find_party(store, company, &p)
                        .await
                        .map_err(said)?
                        .id,
                ),
                None => None,
            };
            let certificates = records::certificates_of(store, company, only).await?;
            if json {
                return crate::output::print_json(&certificates);
            }
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
                        p.subject.short_key().into(),
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
            let c = records::certificate(store, company, CertificateId(id))
                .await
                .map_err(said)?;
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
            let old = records::certificate(store, company, CertificateId(id))
                .await
                .map_err(said)?;
            let c: Certificate = read_record(
                &from,
                "certificate",
                &[
                    ("id", serde_json::json!(id)),
                    ("party_id", serde_json::json!(old.party_id)),
                ],
            )?;
            records::replace_certificate(store, company, old.id, c, None)
                .await
                .map_err(said)?;
            outln!("Replaced certificate {id}; the next `trestle sync compliance` evaluates it.");
            Ok(())
        }
        CertificateCommand::Remove { id } => {
            match records::remove_certificate(store, company, CertificateId(id), None).await {
                Err(RecordError::NoCertificate(_)) => {
                    return Err(anyhow!("no certificate {id}; nothing was removed"))
                }
                done => done.map_err(said)?,
            }
            outln!("Removed certificate {id}.");
            Ok(())
        }
        CertificateCommand::PolicySet(args) => {
            let draft = policy_draft(&args.policy, &args.remove_limit);
            let c = records::set_policy(store, company, CertificateId(args.id), &draft, None)
                .await
                .map_err(said)?;
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
            records::remove_policy(store, company, CertificateId(id), subject, None)
                .await
                .map_err(said)?;
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
        /// Print JSON, in the REST API's shape (`GET
        /// /api/v1/companies/{c}/compliance/parties/{id}/waivers`).
        #[arg(long)]
        json: bool,
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
            let party = records::find_party(store, company, &args.party)
                .await
                .map_err(said)?;
            let new = NewWaiver {
                requirement: args.requirement,
                subject: args.subject,
                kind: match args.kind {
                    WaiverKindArg::Waive => WaiverKind::Waive,
                    WaiverKindArg::Override => WaiverKind::Override,
                },
                reason: args.reason,
                until: args.until,
                project: args.project,
                everywhere: args.everywhere,
            };
            let w = records::add_waiver(store, company, party.id, new)
                .await
                .map_err(said)?;
            outln!(
                "Added waiver {} for {}: {}. The next `trestle sync compliance` applies it.",
                w.id,
                shown(&party.name),
                describe_waiver(&w)
            );
            Ok(())
        }
        WaiverCommand::List { party, json } => {
            let parties = store.parties(company).await?;
            let only = match party {
                Some(p) => Some(
                    records::find_party(store, company, &p)
                        .await
                        .map_err(said)?
                        .id,
                ),
                None => None,
            };
            let waivers = records::waivers_of(store, company, only).await?;
            if json {
                return crate::output::print_json(&waivers);
            }
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
            records::remove_waiver(store, company, WaiverId(id))
                .await
                .map_err(said)?;
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

pub async fn party(store: &Store, company: i64, command: PartyCommand) -> Result<()> {
    match command {
        PartyCommand::SetProfile {
            party,
            profile,
            none: _,
        } => {
            let party = records::find_party(store, company, &party)
                .await
                .map_err(said)?;
            let profile =
                records::set_party_profile(store, company, party.id, profile.as_deref(), None)
                    .await
                    .map_err(said)?;
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
