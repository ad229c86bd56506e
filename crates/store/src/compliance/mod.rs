//! The compliance app's records: parties, projects, party-project associations and contacts
//! (mirrored from Procore), compliance profiles, certificates and waivers (trestle is their
//! system of record), the decisions about which Procore records to bring in, the insurance
//! records trestle last wrote, the integration's settings, and [`Store::apply_compliance`], the
//! one-transaction apply of a compliance plan.
//!
//! Profiles, certificates and waivers are stored whole as JSON in the domain types' own serde
//! form (the import format): they are always read and written whole, never queried inside, and
//! one serde form means the CLI, the import file and the store cannot drift apart. Their row's
//! id and party are the truth; the copies inside the JSON are overwritten on read.
//!
//! # Layout
//! - `types`: the public types that are not domain types (changes, references, mapping
//!   decisions, insurance write state, the batch).
//! - `rows`: the SELECTs shared by the lists, the dataset and the import, the row decoders,
//!   and the JSON codec.
//! - `writes`: single-row writes of parties, projects, associations and contacts on a
//!   connection, and how links follow the Procore ids they carry; shared by the apply, the
//!   import and the single calls.
//! - `profiles`: the same for profiles, certificates and waivers.
//! - `reads`: the store's calls other than the apply and the import.
//! - `apply`: [`Store::apply_compliance`].
//! - `import`: [`Store::import_compliance`]: it reads what the company holds, lets `matching`
//!   decide, and writes the result.
//! - `matching`: the import's "find this record again" rules and its checks of the file, as
//!   pure functions, so each rule has a unit test without a database.
//!
//! [`Store::apply_compliance`]: crate::Store::apply_compliance
//! [`Store::import_compliance`]: crate::Store::import_compliance

mod apply;
mod import;
mod matching;
mod profiles;
mod reads;
mod rows;
mod types;
mod writes;

pub use import::{ImportSummary, Imported};
pub use matching::ImportProblem;
pub use types::{
    ComplianceBatch, ComplianceChange, ComplianceProjectRecord, CustomFields, InsuranceWrite,
    InsuranceWriteState, MappingDecision, MappingWrite, ProcoreMapping, ProcoreRecordKind, Ref,
};
