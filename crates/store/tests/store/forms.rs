use crate::{project_fields, COMPANY};
use chrono::{DateTime, Utc};
use domain::workforce::{
    Answer, FieldKind, FormField, FormSection, FormTemplate, ProjectStatus, Signature, Submission,
    SubmissionState,
};
use store::StoreError;

pub(crate) fn template() -> FormTemplate {
    FormTemplate {
        id: 0,
        name: "Toolbox Talk".into(),
        sections: vec![FormSection {
            title: "Talk".into(),
            fields: vec![
                FormField {
                    key: "topic".into(),
                    label: "Topic".into(),
                    kind: FieldKind::Text { multiline: false },
                    required: true,
                },
                FormField {
                    key: "ppe".into(),
                    label: "PPE".into(),
                    kind: FieldKind::Choice {
                        options: vec!["Yes".into(), "No".into()],
                    },
                    required: false,
                },
                FormField {
                    key: "sig".into(),
                    label: "Signature".into(),
                    kind: FieldKind::Signature,
                    required: true,
                },
            ],
        }],
    }
}

fn now() -> DateTime<Utc> {
    "2026-11-22T10:00:00.123456789Z".parse().unwrap()
}

both!(
    templates_and_submissions_round_trip_with_answers_and_signatures,
    |ctx| {
        let s = &ctx.store;
        let project = s
            .create_project(COMPANY, &project_fields("A", None), ProjectStatus::Active)
            .await
            .unwrap();
        let mut t = template();
        t.id = s.save_template(COMPANY, &t).await.unwrap();
        assert_eq!(s.templates(COMPANY).await.unwrap(), vec![t.clone()]);
        t.name = "Toolbox Talk v2".into();
        s.save_template(COMPANY, &t).await.unwrap();
        assert_eq!(
            s.template(COMPANY, t.id).await.unwrap().unwrap().name,
            "Toolbox Talk v2"
        );

        let mut sub = Submission::draft(0, t.id, project, "2026-11-22".parse().unwrap());
        sub.id = s.save_submission(&sub).await.unwrap();
        assert_eq!(s.submission(COMPANY, sub.id).await.unwrap().unwrap(), sub);
        assert_eq!(
            s.submission(COMPANY + 1, sub.id).await.unwrap(),
            None,
            "another company's submission is not found"
        );

        sub.answer(&t, "topic", Answer::Text("Ladders".into()))
            .unwrap();
        sub.answer(&t, "ppe", Answer::Choice("Yes".into())).unwrap();
        sub.sign(
            &t,
            Signature {
                field_key: "sig".into(),
                signer_name: "Ann Lee".into(),
                worker_id: Some(7),
                signed_at: now(),
                drawing: None,
            },
        )
        .unwrap();
        sub.complete(&t, now()).unwrap();
        s.save_submission(&sub).await.unwrap();
        let back = s.submission(COMPANY, sub.id).await.unwrap().unwrap();
        assert_eq!(
            back, sub,
            "answers, signatures, revision and completion time come back exactly"
        );
        assert_eq!((back.state, back.revision), (SubmissionState::Completed, 1));
        assert_eq!(s.submissions(COMPANY).await.unwrap(), vec![sub.clone()]);
        assert!(s.submissions(COMPANY + 1).await.unwrap().is_empty());
    }
);

both!(a_submission_for_a_missing_project_is_refused, |ctx| {
    let s = &ctx.store;
    let t = s.save_template(COMPANY, &template()).await.unwrap();
    let err = s
        .save_submission(&Submission::draft(
            0,
            t,
            424_242,
            "2026-11-22".parse().unwrap(),
        ))
        .await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    let mut missing = template();
    missing.id = 999_999;
    assert!(matches!(
        s.save_template(COMPANY, &missing).await,
        Err(StoreError::NotFound { .. })
    ));
});

both!(
    a_revised_template_replaces_the_old_one_which_its_forms_keep,
    |ctx| {
        let s = &ctx.store;
        let old = s.save_template(COMPANY, &template()).await.unwrap();
        let mut changed = template();
        changed.name = "Toolbox Talk v2".into();
        let new = s.revise_template(COMPANY, old, &changed).await.unwrap();
        assert_ne!(new, old);
        assert_eq!(
            s.template_replaced_by(COMPANY, old).await.unwrap(),
            Some(new)
        );
        assert_eq!(s.template_replaced_by(COMPANY, new).await.unwrap(), None);
        let current: Vec<i64> = s
            .current_templates(COMPANY)
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(current, vec![new]);
        // The old version is still there, unchanged, for the forms filled on it.
        assert_eq!(
            s.template(COMPANY, old).await.unwrap().unwrap().name,
            template().name
        );
        assert!(matches!(
            s.revise_template(COMPANY, old, &changed).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            s.revise_template(COMPANY + 1, new, &changed).await,
            Err(StoreError::NotFound { .. })
        ));
    }
);
