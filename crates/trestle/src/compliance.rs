//! `compliance import`, `compliance map`, `compliance settings`, and the report `sync
//! compliance` prints; the record commands (`compliance profile|certificate|waiver`) are in
//! `records`.

use crate::output::table;
use anyhow::{bail, Context, Result};
use chrono::Utc;
use clap::{Args, Subcommand, ValueEnum};
use domain::compliance::{ComplianceData, WriteBackFormat};
use engine::mapping::MapError;
use engine::open::{client_for, open_store, pick_connection};
use engine::settings::Settings;
use std::fmt::Write;
use store::{MappingDecision, ProcoreRecordKind, Store};
use sync::compliance::change_settings;
use sync::compliance::settings::{ActiveCommitments, DescriptionSync};
use sync::compliance::{
    Action, ComplianceSettings, ContactSync, NewProjects, Reason, Report, SyncLevel,
};

#[derive(Debug, Subcommand)]
pub enum ComplianceCommand {
    /// Compliance profiles: the requirements a party must meet, by subject.
    Profile(RecordArgs<crate::records::ProfileCommand>),
    /// Certificates of insurance and their policies.
    Certificate(RecordArgs<crate::records::CertificateCommand>),
    /// Waivers (not required) and overrides (treat as met).
    Waiver(RecordArgs<crate::records::WaiverCommand>),
    /// Parties: give one its global compliance profile.
    Party(RecordArgs<crate::records::PartyCommand>),
    /// Load profiles, parties, projects, associations, contacts, certificates and waivers from
    /// a JSON file (docs/compliance-import.md), all or nothing. Importing the same file again
    /// updates what it wrote instead of adding a second copy.
    Import {
        file: std::path::PathBuf,
        #[arg(long)]
        company_id: Option<i64>,
        /// Print what was added and updated as JSON, as `POST …/compliance/import` answers.
        #[arg(long)]
        json: bool,
    },
    /// Decide what happens to a Procore project or company: `import`, `link LOCAL_ID`, or
    /// `do-not-add`.
    Map(MapArgs),
    /// The Procore projects and companies seen, and the decision for each.
    Mappings {
        /// Only those waiting for a decision.
        #[arg(long)]
        undecided: bool,
        #[arg(long)]
        company_id: Option<i64>,
        /// Print JSON, in the REST API's shapes.
        #[arg(long)]
        json: bool,
    },
    /// trestle's parties, with their compliance today and the ids other commands take.
    Parties {
        /// Their compliance as of this date (YYYY-MM-DD) instead of today: what lapses by then.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::records::parse_date)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long)]
        company_id: Option<i64>,
        /// Print JSON, in the REST API's shapes.
        #[arg(long)]
        json: bool,
    },
    /// trestle's compliance projects, with the ids `map project ... link` takes and how many of
    /// their parties are not compliant today.
    Projects {
        /// Count the parties not compliant as of this date (YYYY-MM-DD) instead of today.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::records::parse_date)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long)]
        company_id: Option<i64>,
        /// Print JSON, in the REST API's shapes.
        #[arg(long)]
        json: bool,
    },
    /// Show the integration's settings, changing those given first.
    Settings(SettingsArgs),
}

#[derive(Debug, Args)]
pub struct RecordArgs<C: Subcommand> {
    #[command(subcommand)]
    pub command: C,
    /// Which connected company (default: the configured or only one).
    #[arg(long, global = true)]
    pub company_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MapKind {
    Project,
    Company,
}

#[derive(Debug, Args)]
pub struct MapArgs {
    pub kind: MapKind,
    pub procore_id: i64,
    /// `import`, `link`, or `do-not-add`.
    pub decision: String,
    /// The trestle project or party id, for `link`.
    pub local_id: Option<i64>,
    #[arg(long)]
    pub company_id: Option<i64>,
    /// Print the decision as JSON, as `POST …/compliance/mappings/{kind}/{procore_id}`
    /// answers it (`job_id` null: the next sync carries it out).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LevelArg {
    All,
    ProjectsOnly,
    PartiesOnly,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Subjects,
    Summary,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ContactsArg {
    DoNotSync,
    AllSetPrimary,
    AllWithoutPrimary,
    PrimaryOnly,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum NewProjectsArg {
    ListForMapping,
    ImportAutomatically,
}

#[derive(Debug, Args, Default)]
pub struct SettingsArgs {
    /// Write compliance status back to Procore.
    #[arg(long)]
    pub compliance_sync: Option<OnOff>,
    /// Which levels are written back.
    #[arg(long)]
    pub level: Option<LevelArg>,
    /// One insurance record per subject, or one summary record.
    #[arg(long)]
    pub format: Option<FormatArg>,
    /// Contacts synchronization.
    #[arg(long)]
    pub contacts: Option<ContactsArg>,
    /// What happens to a Procore project nobody has mapped yet.
    #[arg(long)]
    pub new_projects: Option<NewProjectsArg>,
    /// Import companies with an active commitment on a linked project.
    #[arg(long)]
    pub import_companies: Option<OnOff>,
    /// The commitment custom field naming a compliance profile.
    #[arg(long)]
    pub profile_field: Option<String>,
    /// Keep project descriptions in sync always, or only copy them on import.
    #[arg(long)]
    pub description: Option<DescriptionArg>,
    /// A Procore project or company turning inactive inactivates the linked record.
    #[arg(long)]
    pub sync_active_status: Option<OnOff>,
    /// Purchase orders never associate a company with a project.
    #[arg(long)]
    pub ignore_purchase_orders: Option<OnOff>,
    /// Subcontracts (work order contracts) never associate a company with a project.
    #[arg(long)]
    pub ignore_subcontracts: Option<OnOff>,
    /// Commitment statuses that count as active, for both kinds (comma-separated, e.g.
    /// "Approved,Complete").
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["subcontract_statuses", "purchase_order_statuses", "executed_only"])]
    pub active_statuses: Option<Vec<String>>,
    /// Subcontract statuses that count as active (with --purchase-order-statuses).
    #[arg(long, value_delimiter = ',', requires = "purchase_order_statuses")]
    pub subcontract_statuses: Option<Vec<String>>,
    /// Purchase order statuses that count as active (with --subcontract-statuses).
    #[arg(long, value_delimiter = ',', requires = "subcontract_statuses")]
    pub purchase_order_statuses: Option<Vec<String>>,
    /// A commitment is active when it is executed, whatever its status.
    #[arg(long, conflicts_with_all = ["subcontract_statuses", "purchase_order_statuses"])]
    pub executed_only: bool,
    /// Every this many days a sync reads every collection whole, not only what changed, to
    /// notice records deleted in Procore or hidden from the integration user (0: every sync).
    #[arg(long)]
    pub full_read_days: Option<u32>,
    #[arg(long)]
    pub company_id: Option<i64>,
    /// Print JSON, in the REST API's shape.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DescriptionArg {
    Always,
    OnImportOnly,
}

impl SettingsArgs {
    pub fn apply(&self, s: &mut ComplianceSettings) {
        if let Some(v) = self.compliance_sync {
            s.compliance_sync = v == OnOff::On;
        }
        if let Some(v) = self.level {
            s.level = match v {
                LevelArg::All => SyncLevel::All,
                LevelArg::ProjectsOnly => SyncLevel::ProjectsOnly,
                LevelArg::PartiesOnly => SyncLevel::PartiesOnly,
            };
        }
        if let Some(v) = self.format {
            s.format = match v {
                FormatArg::Subjects => WriteBackFormat::Subjects,
                FormatArg::Summary => WriteBackFormat::Summary,
            };
        }
        if let Some(v) = self.contacts {
            s.contacts = match v {
                ContactsArg::DoNotSync => ContactSync::DoNotSync,
                ContactsArg::AllSetPrimary => ContactSync::AllSetPrimary,
                ContactsArg::AllWithoutPrimary => ContactSync::AllWithoutPrimary,
                ContactsArg::PrimaryOnly => ContactSync::PrimaryOnly,
            };
        }
        if let Some(v) = self.new_projects {
            s.new_projects = match v {
                NewProjectsArg::ListForMapping => NewProjects::ListForMapping,
                NewProjectsArg::ImportAutomatically => NewProjects::ImportAutomatically,
            };
        }
        if let Some(v) = self.import_companies {
            s.import_companies_through_commitments = v == OnOff::On;
        }
        if let Some(v) = &self.profile_field {
            s.profile_field = v.clone();
        }
        if let Some(v) = self.description {
            s.description = match v {
                DescriptionArg::Always => DescriptionSync::Always,
                DescriptionArg::OnImportOnly => DescriptionSync::OnImportOnly,
            };
        }
        if let Some(v) = self.sync_active_status {
            s.sync_active_status = v == OnOff::On;
        }
        if let Some(v) = self.ignore_purchase_orders {
            s.ignore_purchase_orders = v == OnOff::On;
        }
        if let Some(v) = self.ignore_subcontracts {
            s.ignore_subcontracts = v == OnOff::On;
        }
        let trimmed = |v: &[String]| {
            v.iter()
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        };
        if let Some(v) = &self.active_statuses {
            s.active_commitments = ActiveCommitments::Shared {
                statuses: trimmed(v),
            };
        }
        if let (Some(sc), Some(po)) = (&self.subcontract_statuses, &self.purchase_order_statuses) {
            s.active_commitments = ActiveCommitments::PerType {
                subcontracts: trimmed(sc),
                purchase_orders: trimmed(po),
            };
        }
        if self.executed_only {
            s.active_commitments = ActiveCommitments::ExecutedOnly;
        }
        if let Some(v) = self.full_read_days {
            s.full_read_days = v;
        }
    }
}

pub async fn command(settings: &Settings, command: ComplianceCommand) -> Result<()> {
    let store = open_store(settings).await?;
    match command {
        ComplianceCommand::Profile(args) => {
            let connection = pick_connection(&store, settings, args.company_id).await?;
            crate::records::profile(&store, connection.company_id, args.command).await
        }
        ComplianceCommand::Certificate(args) => {
            let connection = pick_connection(&store, settings, args.company_id).await?;
            crate::records::certificate(&store, connection.company_id, args.command).await
        }
        ComplianceCommand::Waiver(args) => {
            let connection = pick_connection(&store, settings, args.company_id).await?;
            crate::records::waiver(&store, connection.company_id, args.command).await
        }
        ComplianceCommand::Party(args) => {
            let connection = pick_connection(&store, settings, args.company_id).await?;
            crate::records::party(&store, connection.company_id, args.command).await
        }
        ComplianceCommand::Import {
            file,
            company_id,
            json,
        } => {
            let connection = pick_connection(&store, settings, company_id).await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let data: ComplianceData = serde_json::from_str(&text).map_err(|e| {
                // serde says "expected a Decimal type"; say what to write instead.
                let hint = domain::compliance::money_hint(&e.to_string())
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                anyhow::anyhow!(
                    "{} is not a compliance import file: {e}{hint}; nothing was imported (see docs/compliance-import.md)",
                    file.display()
                )
            })?;
            let summary = import(&store, connection.company_id, &data)
                .await
                .with_context(|| format!("{} was refused; nothing was imported", file.display()))?;
            if json {
                return crate::output::print_json(&summary);
            }
            outln!(
                "Imported from {}: {}",
                file.display(),
                imported(&data, &summary)
            );
            Ok(())
        }
        ComplianceCommand::Map(args) => {
            let connection = pick_connection(&store, settings, args.company_id).await?;
            let decision = match (args.decision.as_str(), args.local_id) {
                ("import", None) => MappingDecision::Import,
                ("do-not-add", None) => MappingDecision::DoNotAdd,
                ("link", Some(id)) => MappingDecision::LinkTo(id),
                ("link", None) => bail!("`link` needs the trestle id to link to"),
                (other, _) => {
                    bail!("unknown decision \"{other}\": use import, link LOCAL_ID or do-not-add")
                }
            };
            let kind = match args.kind {
                MapKind::Project => ProcoreRecordKind::Project,
                MapKind::Company => ProcoreRecordKind::Company,
            };
            let client = client_for(settings, &connection, &store)?;
            let company = connection.company_id;
            let mapped =
                engine::mapping::map(&store, &client, company, kind, args.procore_id, decision)
                    .await
                    .map_err(map_refused)?;
            if args.json {
                return crate::output::print_json(&api::mapping::Mapped::of(
                    mapped.kind,
                    mapped.procore_id,
                    mapped.decision,
                    None,
                ));
            }
            let what = match mapped.kind {
                ProcoreRecordKind::Project => "Procore project",
                ProcoreRecordKind::Company => "Procore company",
            };
            let said = match mapped.decision {
                MappingDecision::Import => "will be imported by the next sync".to_string(),
                MappingDecision::LinkTo(id) => {
                    format!("will be linked to trestle record {id} by the next sync")
                }
                MappingDecision::DoNotAdd => "is ignored by every sync from now on".to_string(),
                MappingDecision::Undecided => "is waiting for a decision".to_string(),
            };
            outln!("{what} {} {said}.", mapped.procore_id);
            Ok(())
        }
        ComplianceCommand::Mappings {
            undecided,
            company_id,
            json,
        } => {
            let connection = pick_connection(&store, settings, company_id).await?;
            if json {
                let rows =
                    engine::views::mappings(&store, connection.company_id, undecided).await?;
                let rows: Vec<api::mapping::Mapping> = rows.into_iter().map(Into::into).collect();
                return crate::output::print_json(&rows);
            }
            out!(
                "{}",
                crate::overview::mappings(&store, connection.company_id, undecided).await?
            );
            Ok(())
        }
        ComplianceCommand::Parties {
            as_of,
            company_id,
            json,
        } => {
            let connection = pick_connection(&store, settings, company_id).await?;
            if json {
                let on = as_of.unwrap_or_else(|| Utc::now().date_naive());
                let rows = engine::views::parties(&store, connection.company_id, on).await?;
                let rows: Vec<api::parties::Party> = rows.into_iter().map(Into::into).collect();
                return crate::output::print_json(&rows);
            }
            out!(
                "{}",
                crate::overview::parties(&store, connection.company_id, as_of).await?
            );
            Ok(())
        }
        ComplianceCommand::Projects {
            as_of,
            company_id,
            json,
        } => {
            let connection = pick_connection(&store, settings, company_id).await?;
            if json {
                let on = as_of.unwrap_or_else(|| Utc::now().date_naive());
                let rows = engine::views::projects(&store, connection.company_id, on).await?;
                let rows: Vec<api::parties::ComplianceProject> =
                    rows.into_iter().map(Into::into).collect();
                return crate::output::print_json(&rows);
            }
            out!(
                "{}",
                crate::overview::projects(&store, connection.company_id, as_of).await?
            );
            Ok(())
        }
        ComplianceCommand::Settings(args) => {
            let connection = pick_connection(&store, settings, args.company_id).await?;
            // Made on the settings as they are when saved: a change saved meanwhile (the web
            // UI's, the API's) is kept.
            let s = change_settings(&store, connection.company_id, |current| {
                let mut s = current.clone();
                args.apply(&mut s);
                Ok::<_, sync::SyncError>(s)
            })
            .await?;
            if args.json {
                return crate::output::print_json(&s);
            }
            out!("{}", describe_settings(&s));
            Ok(())
        }
    }
}

/// A refused mapping decision, with the commands that list the ids to use.
fn map_refused(e: MapError) -> anyhow::Error {
    let said = e.to_string();
    match e {
        MapError::NoSuchRecord { kind, .. } => {
            let list = match kind {
                ProcoreRecordKind::Project => "projects",
                ProcoreRecordKind::Company => "parties",
            };
            anyhow::anyhow!("{said}; `trestle compliance {list}` lists them with their ids")
        }
        MapError::NotInProcore { kind, read, .. } => {
            let known = if read == 0 {
                "trestle has not read any yet: run `trestle sync compliance`, then `trestle compliance mappings` lists them with their ids".to_string()
            } else {
                let plural = match kind {
                    ProcoreRecordKind::Company => "companies",
                    ProcoreRecordKind::Project => "projects",
                };
                format!("`trestle compliance mappings` lists the {read} Procore {plural} trestle has read, with their ids")
            };
            anyhow::anyhow!("{said}. {known}")
        }
        MapError::Check { source, .. } => anyhow::Error::new(source).context(said),
        other => other.into(),
    }
}

/// The settings in the seed's words.
fn active_label(a: &ActiveCommitments) -> String {
    match a {
        ActiveCommitments::Shared { statuses } => {
            format!("status is one of: {}", statuses.join(", "))
        }
        ActiveCommitments::PerType {
            subcontracts,
            purchase_orders,
        } => format!(
            "subcontracts: {}; purchase orders: {}",
            subcontracts.join(", "),
            purchase_orders.join(", ")
        ),
        ActiveCommitments::ExecutedOnly => "executed (signed), whatever the status".into(),
    }
}

pub fn describe_settings(s: &ComplianceSettings) -> String {
    let on = |b: bool| if b { "on" } else { "off" };
    let rows = vec![
        vec!["setting".into(), "value".into()],
        vec!["compliance sync".into(), on(s.compliance_sync).into()],
        vec!["level".into(), s.level.label().into()],
        vec![
            "format".into(),
            match s.format {
                WriteBackFormat::Subjects => "one record per subject".into(),
                WriteBackFormat::Summary => "one summary record".into(),
            },
        ],
        vec!["contacts".into(), s.contacts.label().into()],
        vec!["new projects".into(), s.new_projects.label().into()],
        vec![
            "import companies through commitments".into(),
            on(s.import_companies_through_commitments).into(),
        ],
        vec!["description".into(), s.description.label().into()],
        vec![
            "active/inactive from Procore".into(),
            on(s.sync_active_status).into(),
        ],
        vec![
            "ignore purchase orders".into(),
            on(s.ignore_purchase_orders).into(),
        ],
        vec![
            "ignore subcontracts".into(),
            on(s.ignore_subcontracts).into(),
        ],
        vec![
            "active commitments".into(),
            active_label(&s.active_commitments),
        ],
        vec!["profile field".into(), s.profile_field.clone()],
        vec![
            "whole read every".into(),
            match s.full_read_days {
                0 => "sync".into(),
                1 => "day".into(),
                n => format!("{n} days"),
            },
        ],
    ];
    table(&rows)
}

/// Imports a compliance file in one transaction (see [`Store::import_compliance`] for how
/// records already stored are found again); what it added and updated.
pub async fn import(
    store: &Store,
    company: i64,
    data: &ComplianceData,
) -> Result<store::ImportSummary> {
    Ok(store.import_compliance(company, data).await?)
}

/// What [`import`] did, in a sentence.
pub fn imported(data: &ComplianceData, done: &store::ImportSummary) -> String {
    format!(
        "{} profiles, {} parties, {} projects, {} associations, {} contacts, {} certificates, {} waivers; \
         {} new, {} already there and updated.",
        data.profiles.len(),
        data.parties.len(),
        data.projects.len(),
        data.party_projects.len(),
        data.contacts.len(),
        data.certificates.len(),
        data.waivers.len(),
        done.added(),
        done.updated()
    )
}

/// The summary table, the unknown profiles and the failures; `as_of` is the date a preview
/// evaluated compliance on, when not today.
pub fn print_report(report: &Report, as_of: Option<chrono::NaiveDate>) {
    // Its lines quote Procore names and Procore's error messages.
    out!(
        "{}",
        crate::output::shown_lines(&report_text(report, as_of))
    );
}

fn report_text(report: &Report, as_of: Option<chrono::NaiveDate>) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let title = match (s.dry_run, as_of) {
        (true, Some(date)) => {
            format!("Compliance sync (dry run with compliance as of {date}: nothing changed)")
        }
        (true, None) => "Compliance sync (dry run: nothing changed)".into(),
        (false, _) => "Compliance sync".into(),
    };
    let _ = writeln!(out, "{title}, {}:", report.run);
    let rows = vec![
        vec!["".into(), "created".into(), "updated".into()],
        vec![
            "projects".into(),
            s.projects_created.to_string(),
            s.projects_updated.to_string(),
        ],
        vec![
            "parties".into(),
            s.parties_created.to_string(),
            s.parties_updated.to_string(),
        ],
        vec![
            "contacts".into(),
            s.contacts_created.to_string(),
            s.contacts_updated.to_string(),
        ],
        vec![
            "associations".into(),
            s.associations_set.to_string(),
            format!("{} ended", s.associations_ended),
        ],
    ];
    out.push_str(&table(&rows));
    let _ = writeln!(
        out,
        "  insurance records: {} queued, {} written, {} removed, {} failed; {} skipped, {} rejected; {} read in {} ({})",
        s.insurance_queued + s.insurance_removals_queued,
        s.insurance_written,
        s.insurance_removed,
        s.insurance_failures,
        s.skipped,
        s.rejected,
        count(s.records_read, "record"),
        count(s.requests as usize, "request"),
        if s.full_read { "everything read whole" } else { "only changes read" }
    );
    for a in &report.plan.actions {
        if let Action::Skip {
            key,
            reason: reason @ (Reason::UnknownProfile { .. } | Reason::ProfileFieldNotFound { .. }),
        } = a
        {
            let _ = writeln!(out, "  {key}: {reason}");
        }
    }
    for (kind, id, problem) in &report.rejected {
        let _ = writeln!(
            out,
            "  skipped {kind} {}: {problem}",
            id.map_or("?".into(), |i| i.to_string())
        );
    }
    for f in &report.failures {
        let _ = writeln!(out, "  failed: {f}");
    }
    out
}

/// "1 record", "2 records".
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
