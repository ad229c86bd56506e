//! The workforce planner, one named test per rule of seed `000_e918b7ad9c31c2aa.txt`.

use chrono::NaiveDate;
use domain::workforce::{Activation, Project, ProjectFields, ProjectStatus, Worker, WorkerFields};
use sync::workforce::input::{FormState, RecordKind, Rejected};
use sync::workforce::{
    plan, Action, LocalWorkforce, Plan, ProcoreProject, ProcoreUser, Reason, WorkforceSettings,
    WorkforceSnapshot,
};

fn today() -> NaiveDate {
    "2026-11-22".parse().unwrap()
}

fn project(id: i64) -> ProcoreProject {
    ProcoreProject {
        id,
        name: format!("Project {id}"),
        project_number: Some(format!("P-{id}")),
        description: Some("private".into()),
        public_notes: Some("public".into()),
        address: Some("1 Main St".into()),
        city: Some("Toronto".into()),
        state_code: Some("ON".into()),
        zip: Some("M5V".into()),
        country_code: Some("CA".into()),
        active: true,
        start_date: Some("2026-01-01".parse().unwrap()),
        is_template: false,
    }
}

fn user(id: i64) -> ProcoreUser {
    ProcoreUser {
        id,
        first_name: "Ann".into(),
        last_name: format!("Lee{id}"),
        mobile_phone: Some("555-0100".into()),
        business_phone: Some("555-0199".into()),
        employee_id: Some(format!("E{id}")),
        email_address: Some(format!("user{id}@example.com")),
        is_active: true,
        is_employee: true,
        is_service_account: false,
    }
}

fn snapshot(projects: Vec<ProcoreProject>, users: Vec<ProcoreUser>) -> WorkforceSnapshot {
    WorkforceSnapshot {
        projects,
        users,
        service_account_id: Some(999),
        rejected: vec![],
    }
}

fn settings() -> WorkforceSettings {
    WorkforceSettings::default()
}

fn only(plan: &Plan) -> &Action {
    assert_eq!(plan.actions.len(), 1, "{:#?}", plan.actions);
    &plan.actions[0]
}

fn app_project(id: i64, name: &str, number: Option<&str>) -> Project {
    Project {
        id,
        fields: ProjectFields {
            name: name.into(),
            project_number: number.map(String::from),
            ..Default::default()
        },
        status: ProjectStatus::Active,
    }
}

fn worker(id: i64, email: Option<&str>, activation: Activation, blocked: bool) -> Worker {
    Worker {
        id,
        fields: WorkerFields {
            first_name: "X".into(),
            last_name: "Y".into(),
            email: email.map(String::from),
            ..Default::default()
        },
        activation,
        blocked,
    }
}

/// Applies a plan to in-memory records the way the store does, so idempotence can be checked.
fn apply(local: &mut LocalWorkforce, plan: &Plan) {
    let mut next = 1000 + local.projects.len() as i64 + local.workers.len() as i64;
    for a in &plan.actions {
        match a.clone() {
            Action::CreateProject {
                procore_id,
                fields,
                status,
                ..
            } => {
                next += 1;
                local.projects.push(Project {
                    id: next,
                    fields,
                    status,
                });
                local.project_links.insert(procore_id, next);
            }
            Action::UpdateProject {
                project_id,
                fields,
                status,
                ..
            } => {
                let p = local
                    .projects
                    .iter_mut()
                    .find(|p| p.id == project_id)
                    .unwrap();
                p.fields = fields;
                p.status = status;
            }
            Action::CreateWorker {
                procore_id,
                fields,
                activation,
                ..
            } => {
                next += 1;
                local.workers.push(Worker {
                    id: next,
                    fields,
                    activation,
                    blocked: false,
                });
                local.worker_links.insert(procore_id, next);
            }
            Action::UpdateWorker {
                worker_id,
                fields,
                activation,
                blocked,
                ..
            } => {
                let w = local
                    .workers
                    .iter_mut()
                    .find(|w| w.id == worker_id)
                    .unwrap();
                w.fields = fields;
                w.activation = activation;
                w.blocked = blocked;
            }
            Action::UploadForm {
                submission_id,
                revision,
                ..
            } => {
                let f = local
                    .forms
                    .iter_mut()
                    .find(|f| f.submission_id == submission_id)
                    .unwrap();
                f.queued_revision = Some(revision);
            }
            Action::Skip { .. } => {}
        }
    }
}

// ---- projects -------------------------------------------------------------------------------

#[test]
fn project_fields_map_name_number_description_notes_and_address() {
    let p = plan(
        &snapshot(vec![project(1)], vec![]),
        &LocalWorkforce::default(),
        &settings(),
        today(),
    );
    let Action::CreateProject { fields, status, .. } = only(&p) else {
        panic!("{p:?}")
    };
    assert_eq!(*status, ProjectStatus::Active);
    assert_eq!(
        fields,
        &ProjectFields {
            name: "Project 1".into(),
            project_number: Some("P-1".into()),
            private_description: Some("private".into()),
            public_info: Some("public".into()),
            street_address: Some("1 Main St".into()),
            city: Some("Toronto".into()),
            state: Some("ON".into()),
            zip: Some("M5V".into()),
            country: Some("CA".into()),
        }
    );
}

#[test]
fn an_inactive_project_starting_in_the_future_is_created_as_upcoming() {
    let mut p = project(1);
    p.active = false;
    p.start_date = Some("2027-03-01".parse().unwrap());
    let plan = plan(
        &snapshot(vec![p], vec![]),
        &LocalWorkforce::default(),
        &settings(),
        today(),
    );
    assert!(matches!(
        only(&plan),
        Action::CreateProject {
            status: ProjectStatus::Upcoming,
            ..
        }
    ));
}

#[test]
fn a_completed_project_that_is_not_in_the_app_is_not_created() {
    let mut p = project(1);
    p.active = false;
    p.start_date = Some("2025-03-01".parse().unwrap());
    let plan = plan(
        &snapshot(vec![p], vec![]),
        &LocalWorkforce::default(),
        &settings(),
        today(),
    );
    assert_eq!(only(&plan).reason(), &Reason::CompletedProjectNotCreated);
}

#[test]
fn a_linked_project_that_completes_in_procore_becomes_completed_in_the_app() {
    let mut local = LocalWorkforce::default();
    let first = plan(
        &snapshot(vec![project(1)], vec![]),
        &local,
        &settings(),
        today(),
    );
    apply(&mut local, &first);
    let mut p = project(1);
    p.active = false;
    let plan = plan(&snapshot(vec![p], vec![]), &local, &settings(), today());
    assert!(matches!(
        only(&plan),
        Action::UpdateProject {
            status: ProjectStatus::Completed,
            ..
        }
    ));
}

#[test]
fn a_project_with_the_number_of_an_unlinked_app_project_is_not_synced() {
    let local = LocalWorkforce {
        projects: vec![app_project(5, "Other name", Some("P-1"))],
        ..Default::default()
    };
    let plan = plan(
        &snapshot(vec![project(1)], vec![]),
        &local,
        &settings(),
        today(),
    );
    assert_eq!(
        only(&plan).reason(),
        &Reason::SameNumberAsUnlinkedProject {
            project_id: 5,
            number: "P-1".into()
        }
    );
}

#[test]
fn a_project_without_a_number_and_the_name_of_an_unlinked_app_project_is_not_synced() {
    let local = LocalWorkforce {
        projects: vec![app_project(5, "project 1", None)],
        ..Default::default()
    };
    let mut p = project(1);
    p.project_number = None;
    let plan = plan(&snapshot(vec![p], vec![]), &local, &settings(), today());
    assert!(matches!(
        only(&plan).reason(),
        Reason::SameNameAsUnlinkedProject { project_id: 5, .. }
    ));
}

#[test]
fn a_project_with_a_number_is_synced_even_when_an_app_project_has_its_name() {
    let local = LocalWorkforce {
        projects: vec![app_project(5, "Project 1", Some("OTHER"))],
        ..Default::default()
    };
    let plan = plan(
        &snapshot(vec![project(1)], vec![]),
        &local,
        &settings(),
        today(),
    );
    assert!(matches!(only(&plan), Action::CreateProject { .. }));
}

#[test]
fn project_templates_are_never_synced() {
    let mut p = project(1);
    p.is_template = true;
    let plan = plan(
        &snapshot(vec![p], vec![]),
        &LocalWorkforce::default(),
        &settings(),
        today(),
    );
    assert_eq!(only(&plan).reason(), &Reason::TemplateNeverSynced);
}

// ---- users ----------------------------------------------------------------------------------

#[test]
fn user_fields_map_names_phone_employee_id_and_email() {
    let plan = plan(
        &snapshot(vec![], vec![user(1)]),
        &LocalWorkforce::default(),
        &settings(),
        today(),
    );
    let Action::CreateWorker { fields, .. } = only(&plan) else {
        panic!()
    };
    assert_eq!(
        fields,
        &WorkerFields {
            first_name: "Ann".into(),
            last_name: "Lee1".into(),
            phone: Some("555-0100".into()),
            employee_number: Some("E1".into()),
            email: Some("user1@example.com".into()),
        }
    );
}

#[test]
fn the_business_phone_is_used_when_there_is_no_mobile_phone() {
    let mut u = user(1);
    u.mobile_phone = None;
    let plan = plan(
        &snapshot(vec![], vec![u]),
        &LocalWorkforce::default(),
        &settings(),
        today(),
    );
    let Action::CreateWorker { fields, .. } = only(&plan) else {
        panic!()
    };
    assert_eq!(fields.phone.as_deref(), Some("555-0199"));
}

#[test]
fn a_user_with_the_email_of_an_unlinked_worker_is_not_synced() {
    let local = LocalWorkforce {
        workers: vec![worker(
            8,
            Some("USER1@example.com"),
            Activation::Active,
            false,
        )],
        ..Default::default()
    };
    let plan = plan(
        &snapshot(vec![], vec![user(1)]),
        &local,
        &settings(),
        today(),
    );
    assert_eq!(
        only(&plan).reason(),
        &Reason::SameEmailAsUnlinkedWorker { worker_id: 8 }
    );
}

#[test]
fn the_integrations_own_service_account_is_never_synced() {
    let plan = plan(
        &snapshot(vec![], vec![user(999)]),
        &LocalWorkforce::default(),
        &settings(),
        today(),
    );
    assert_eq!(only(&plan).reason(), &Reason::ServiceAccountNeverSynced);
}

#[test]
fn another_apps_service_account_is_never_a_worker_even_when_already_linked() {
    let mut other = user(7);
    other.is_service_account = true;
    let plan_new = plan(
        &snapshot(vec![], vec![other.clone()]),
        &LocalWorkforce::default(),
        &settings(),
        today(),
    );
    assert_eq!(
        only(&plan_new).reason(),
        &Reason::OtherServiceAccountNeverSynced
    );
    let mut local = LocalWorkforce {
        workers: vec![worker(
            3,
            Some("user7@example.com"),
            Activation::Active,
            false,
        )],
        ..Default::default()
    };
    local.worker_links.insert(7, 3);
    other.first_name = "Renamed".into();
    let plan_linked = plan(&snapshot(vec![], vec![other]), &local, &settings(), today());
    assert_eq!(
        only(&plan_linked).reason(),
        &Reason::OtherServiceAccountNeverSynced,
        "a service account made a worker by an earlier version is left alone, not updated"
    );
}

#[test]
fn turning_sync_employees_only_on_names_the_setting_as_the_reason_a_worker_is_blocked() {
    let mut contractor = user(7);
    contractor.is_employee = false;
    let mut local = LocalWorkforce {
        workers: vec![worker(
            3,
            Some("user7@example.com"),
            Activation::Active,
            false,
        )],
        last_settings: Some(WorkforceSettings::default()),
        ..Default::default()
    };
    local.worker_links.insert(7, 3);
    local.workers[0].fields = sync::workforce::plan::worker_fields(&contractor);
    let on = WorkforceSettings {
        sync_employees_only: true,
        ..Default::default()
    };
    let p = plan(
        &snapshot(vec![], vec![contractor.clone()]),
        &local,
        &on,
        today(),
    );
    assert_eq!(only(&p).reason(), &Reason::SyncEmployeesOnlyTurnedOnBlocked);
    // The setting was already on: the flag must have been removed in Procore.
    local.last_settings = Some(on);
    let p = plan(&snapshot(vec![], vec![contractor]), &local, &on, today());
    assert_eq!(only(&p).reason(), &Reason::EmployeeFlagRemovedBlocked);
}

#[test]
fn an_active_user_becomes_a_worker_pending_account_activation() {
    let plan = plan(
        &snapshot(vec![], vec![user(1)]),
        &LocalWorkforce::default(),
        &settings(),
        today(),
    );
    assert!(matches!(
        only(&plan),
        Action::CreateWorker {
            activation: Activation::PendingAccountActivation,
            ..
        }
    ));
}

#[test]
fn with_automatic_activation_a_new_worker_is_activated_at_once() {
    let s = WorkforceSettings {
        auto_activate_workers: true,
        ..settings()
    };
    let mut no_email = user(2);
    no_email.email_address = None;
    let plan = plan(
        &snapshot(vec![], vec![user(1), no_email]),
        &LocalWorkforce::default(),
        &s,
        today(),
    );
    let activations: Vec<_> = plan
        .actions
        .iter()
        .map(|a| match a {
            Action::CreateWorker { activation, .. } => *activation,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        activations,
        vec![
            Activation::PendingEmailVerification,
            Activation::ActiveForKiosk
        ]
    );
}

#[test]
fn an_existing_worker_keeps_its_activation_state_while_the_user_stays_active() {
    for activation in [
        Activation::PendingEmailVerification,
        Activation::Active,
        Activation::ActiveForKiosk,
    ] {
        let mut local = LocalWorkforce {
            workers: vec![worker(8, Some("user1@example.com"), activation, false)],
            ..Default::default()
        };
        local.worker_links.insert(1, 8);
        let mut u = user(1);
        u.last_name = "Renamed".into();
        let s = WorkforceSettings {
            auto_activate_workers: true,
            ..settings()
        };
        let plan = plan(&snapshot(vec![], vec![u]), &local, &s, today());
        let Action::UpdateWorker {
            activation: a,
            blocked,
            reason,
            ..
        } = only(&plan)
        else {
            panic!()
        };
        assert_eq!(
            (*a, *blocked, reason),
            (activation, false, &Reason::WorkerDetailsChanged)
        );
    }
}

#[test]
fn an_inactive_user_blocks_an_activated_worker() {
    let mut local = LocalWorkforce {
        workers: vec![worker(8, None, Activation::Active, false)],
        ..Default::default()
    };
    local.worker_links.insert(1, 8);
    let mut u = user(1);
    u.is_active = false;
    let plan = plan(&snapshot(vec![], vec![u]), &local, &settings(), today());
    let Action::UpdateWorker {
        blocked, reason, ..
    } = only(&plan)
    else {
        panic!()
    };
    assert_eq!((*blocked, reason), (true, &Reason::UserInactiveBlocked));
}

#[test]
fn an_inactive_user_leaves_a_never_activated_worker_pending_instead_of_blocked() {
    let mut local = LocalWorkforce {
        workers: vec![worker(8, None, Activation::PendingAccountActivation, false)],
        ..Default::default()
    };
    local.worker_links.insert(1, 8);
    let mut u = user(1);
    u.is_active = false;
    let p = plan(
        &snapshot(vec![], vec![u.clone()]),
        &local,
        &settings(),
        today(),
    );
    // Details differ from the stored ones, so there is an update, and it must not block.
    let Action::UpdateWorker {
        blocked,
        activation,
        ..
    } = only(&p)
    else {
        panic!()
    };
    assert_eq!(
        (*blocked, *activation),
        (false, Activation::PendingAccountActivation)
    );
}

#[test]
fn an_unchanged_never_activated_worker_of_an_inactive_user_is_explained_not_blocked() {
    let mut u = user(1);
    u.is_active = false;
    let fields = sync::workforce::plan::worker_fields(&u);
    let mut local = LocalWorkforce {
        workers: vec![Worker {
            id: 8,
            fields,
            activation: Activation::PendingAccountActivation,
            blocked: false,
        }],
        ..Default::default()
    };
    local.worker_links.insert(1, 8);
    let plan = plan(&snapshot(vec![], vec![u]), &local, &settings(), today());
    assert_eq!(
        only(&plan).reason(),
        &Reason::UserInactiveNeverActivatedStaysPending
    );
    assert!(!plan.has_changes());
}

#[test]
fn an_inactive_user_with_no_worker_is_not_created() {
    let mut u = user(1);
    u.is_active = false;
    let plan = plan(
        &snapshot(vec![], vec![u]),
        &LocalWorkforce::default(),
        &settings(),
        today(),
    );
    assert_eq!(only(&plan).reason(), &Reason::InactiveUserNotCreated);
}

#[test]
fn a_blocked_worker_whose_user_is_active_again_is_restored_to_its_activation_state() {
    let mut local = LocalWorkforce {
        workers: vec![worker(8, None, Activation::ActiveForKiosk, true)],
        ..Default::default()
    };
    local.worker_links.insert(1, 8);
    let plan = plan(
        &snapshot(vec![], vec![user(1)]),
        &local,
        &settings(),
        today(),
    );
    let Action::UpdateWorker {
        blocked,
        activation,
        reason,
        ..
    } = only(&plan)
    else {
        panic!()
    };
    assert_eq!(
        (*blocked, *activation, reason),
        (false, Activation::ActiveForKiosk, &Reason::UserActiveAgain)
    );
}

#[test]
fn with_sync_employees_only_non_employees_are_not_created() {
    let s = WorkforceSettings {
        sync_employees_only: true,
        ..settings()
    };
    let mut u = user(2);
    u.is_employee = false;
    let plan = plan(
        &snapshot(vec![], vec![user(1), u]),
        &LocalWorkforce::default(),
        &s,
        today(),
    );
    assert!(matches!(
        plan.actions[0],
        Action::CreateWorker { procore_id: 1, .. }
    ));
    assert_eq!(plan.actions[1].reason(), &Reason::NotAnEmployee);
}

#[test]
fn with_sync_employees_only_a_user_whose_employee_flag_is_removed_is_blocked() {
    let s = WorkforceSettings {
        sync_employees_only: true,
        ..settings()
    };
    let mut local = LocalWorkforce {
        workers: vec![worker(8, None, Activation::Active, false)],
        ..Default::default()
    };
    local.worker_links.insert(1, 8);
    let mut u = user(1);
    u.is_employee = false;
    let plan = plan(&snapshot(vec![], vec![u]), &local, &s, today());
    let Action::UpdateWorker {
        blocked, reason, ..
    } = only(&plan)
    else {
        panic!()
    };
    assert_eq!(
        (*blocked, reason),
        (true, &Reason::EmployeeFlagRemovedBlocked)
    );
}

// ---- how it runs ----------------------------------------------------------------------------

#[test]
fn a_malformed_record_is_skipped_with_its_reason_and_the_rest_still_syncs() {
    let mut snap = snapshot(vec![project(1)], vec![user(1)]);
    snap.rejected.push(Rejected {
        kind: RecordKind::Project,
        procore_id: Some(2),
        problem: "the name is missing".into(),
    });
    let plan = plan(&snap, &LocalWorkforce::default(), &settings(), today());
    assert_eq!(plan.changes().count(), 2);
    assert!(plan.actions.iter().any(|a| a.reason()
        == &Reason::Malformed {
            problem: "the name is missing".into()
        }));
}

fn mixed_snapshot() -> WorkforceSnapshot {
    let mut inactive = user(3);
    inactive.is_active = false;
    let mut template = project(4);
    template.is_template = true;
    let mut upcoming = project(5);
    upcoming.active = false;
    upcoming.start_date = Some("2030-01-01".parse().unwrap());
    snapshot(
        vec![project(2), project(1), template, upcoming],
        vec![user(2), user(1), inactive, user(999)],
    )
}

#[test]
fn planning_twice_on_the_same_input_gives_the_same_sorted_plan() {
    let local = LocalWorkforce::default();
    let a = plan(&mixed_snapshot(), &local, &settings(), today());
    let b = plan(&mixed_snapshot(), &local, &settings(), today());
    assert_eq!(a, b);
    let subjects: Vec<_> = a.actions.iter().map(Action::subject).collect();
    let mut sorted = subjects.clone();
    sorted.sort();
    assert_eq!(subjects, sorted);
}

#[test]
fn applying_a_plan_and_planning_again_leaves_nothing_to_do() {
    let mut local = LocalWorkforce::default();
    let first = plan(&mixed_snapshot(), &local, &settings(), today());
    assert!(first.has_changes());
    apply(&mut local, &first);
    let second = plan(&mixed_snapshot(), &local, &settings(), today());
    assert!(
        !second.has_changes(),
        "{:#?}",
        second.changes().collect::<Vec<_>>()
    );
}

#[test]
fn every_reason_reads_as_a_sentence_for_explain() {
    let plan = plan(
        &mixed_snapshot(),
        &LocalWorkforce::default(),
        &settings(),
        today(),
    );
    for a in &plan.actions {
        let text = a.reason().to_string();
        assert!(text.len() > 20 && text.contains(':'), "{text}");
    }
}

// ---- forms ----------------------------------------------------------------------------------

fn form(submission_id: i64, completed: bool, revision: u32, uploaded: Option<u32>) -> FormState {
    FormState {
        submission_id,
        project_id: 50,
        completed,
        revision,
        uploaded_revision: uploaded,
        queued_revision: None,
    }
}

fn with_forms(forms: Vec<FormState>) -> LocalWorkforce {
    let mut local = LocalWorkforce {
        forms,
        ..Default::default()
    };
    local.project_links.insert(7001, 50);
    local
}

fn forms_on() -> WorkforceSettings {
    WorkforceSettings {
        sync_forms: true,
        ..settings()
    }
}

#[test]
fn a_completed_form_goes_to_the_projects_documents_when_forms_sync_is_on() {
    let plan = plan(
        &snapshot(vec![], vec![]),
        &with_forms(vec![form(1, true, 1, None)]),
        &forms_on(),
        today(),
    );
    assert_eq!(
        only(&plan),
        &Action::UploadForm {
            submission_id: 1,
            revision: 1,
            procore_project_id: 7001,
            reason: Reason::FormCompleted { revision: 1 }
        }
    );
}

#[test]
fn forms_do_not_sync_when_sync_forms_to_procore_is_off() {
    let plan = plan(
        &snapshot(vec![], vec![]),
        &with_forms(vec![form(1, true, 1, None)]),
        &settings(),
        today(),
    );
    assert_eq!(only(&plan).reason(), &Reason::FormsSyncOff);
}

#[test]
fn a_draft_form_is_never_uploaded() {
    let plan = plan(
        &snapshot(vec![], vec![]),
        &with_forms(vec![form(1, false, 0, None)]),
        &forms_on(),
        today(),
    );
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
}

#[test]
fn a_form_changed_after_completion_goes_again_as_a_new_version() {
    let plan = plan(
        &snapshot(vec![], vec![]),
        &with_forms(vec![form(1, true, 3, Some(1))]),
        &forms_on(),
        today(),
    );
    assert_eq!(
        only(&plan).reason(),
        &Reason::FormRevised {
            uploaded: 1,
            revision: 3
        }
    );
}

#[test]
fn a_form_procore_already_holds_needs_nothing() {
    let plan = plan(
        &snapshot(vec![], vec![]),
        &with_forms(vec![form(1, true, 2, Some(2))]),
        &forms_on(),
        today(),
    );
    assert!(plan.actions.is_empty());
}

#[test]
fn a_form_whose_project_is_not_in_procore_is_not_uploaded() {
    let mut f = form(1, true, 1, None);
    f.project_id = 99;
    let plan = plan(
        &snapshot(vec![], vec![]),
        &with_forms(vec![f]),
        &forms_on(),
        today(),
    );
    assert_eq!(
        only(&plan).reason(),
        &Reason::FormProjectNotInProcore { project_id: 99 }
    );
}

#[test]
fn a_form_already_waiting_in_the_outbox_is_not_planned_twice() {
    let mut local = with_forms(vec![form(1, true, 1, None)]);
    let first = plan(&snapshot(vec![], vec![]), &local, &forms_on(), today());
    apply(&mut local, &first);
    let second = plan(&snapshot(vec![], vec![]), &local, &forms_on(), today());
    assert!(!second.has_changes());
}

#[test]
fn a_clashing_project_an_administrator_imports_is_created_beside_the_app_project() {
    let local = LocalWorkforce {
        projects: vec![app_project(5, "Other name", Some("P-1"))],
        decisions: [((RecordKind::Project, 1), store::WorkforceDecision::Import)].into(),
        ..Default::default()
    };
    let plan = plan(
        &snapshot(vec![project(1)], vec![]),
        &local,
        &settings(),
        today(),
    );
    assert!(
        matches!(
            only(&plan),
            Action::CreateProject {
                procore_id: 1,
                reason: Reason::ImportedByDecision,
                ..
            }
        ),
        "{plan:#?}"
    );
}

#[test]
fn an_imported_project_that_is_completed_is_still_not_created() {
    let mut p = project(1);
    p.active = false;
    let local = LocalWorkforce {
        projects: vec![app_project(5, "Other name", Some("P-1"))],
        decisions: [((RecordKind::Project, 1), store::WorkforceDecision::Import)].into(),
        ..Default::default()
    };
    let plan = plan(&snapshot(vec![p], vec![]), &local, &settings(), today());
    assert_eq!(only(&plan).reason(), &Reason::CompletedProjectNotCreated);
}

#[test]
fn a_project_or_user_an_administrator_ignores_is_never_synced_and_does_not_wait() {
    let local = LocalWorkforce {
        decisions: [
            ((RecordKind::Project, 1), store::WorkforceDecision::Ignore),
            ((RecordKind::User, 2), store::WorkforceDecision::Ignore),
        ]
        .into(),
        ..Default::default()
    };
    let plan = plan(
        &snapshot(vec![project(1)], vec![user(2)]),
        &local,
        &settings(),
        today(),
    );
    assert_eq!(plan.actions.len(), 2, "{plan:#?}");
    for action in &plan.actions {
        assert_eq!(action.reason(), &Reason::IgnoredByDecision);
        assert!(!action.is_change());
        assert!(!action.reason().waits_on_the_app_side());
    }
}

#[test]
fn a_user_an_administrator_imports_becomes_a_second_worker_with_that_email() {
    let local = LocalWorkforce {
        workers: vec![worker(
            7,
            Some("user2@example.com"),
            Activation::Active,
            false,
        )],
        decisions: [((RecordKind::User, 2), store::WorkforceDecision::Import)].into(),
        ..Default::default()
    };
    let plan = plan(
        &snapshot(vec![], vec![user(2)]),
        &local,
        &settings(),
        today(),
    );
    assert!(
        matches!(
            only(&plan),
            Action::CreateWorker {
                procore_id: 2,
                reason: Reason::ImportedByDecision,
                ..
            }
        ),
        "{plan:#?}"
    );
}

#[test]
fn a_worker_an_administrator_blocked_stays_blocked_while_its_procore_user_is_active() {
    let mut blocked = worker(7, None, Activation::Active, true);
    blocked.fields = sync::workforce::plan::worker_fields(&user(2));
    let local = LocalWorkforce {
        workers: vec![blocked],
        worker_links: [(2, 7)].into(),
        blocked_by_admin: [7].into(),
        ..Default::default()
    };
    let plan = plan(
        &snapshot(vec![], vec![user(2)]),
        &local,
        &settings(),
        today(),
    );
    assert_eq!(only(&plan).reason(), &Reason::BlockedByAdminStaysBlocked);
    assert!(!only(&plan).is_change());
}
