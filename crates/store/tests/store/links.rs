use crate::{project_fields, COMPANY};
use domain::workforce::ProjectStatus;
use store::{Link, LinkKind, LinkOrigin, StoreError};

both!(a_record_links_to_one_procore_record_and_back, |ctx| {
    let s = &ctx.store;
    let p = s
        .create_project(COMPANY, &project_fields("A", None), ProjectStatus::Active)
        .await
        .unwrap();
    s.save_link(&Link::new(
        COMPANY,
        LinkKind::Project,
        10,
        p,
        LinkOrigin::LinkedManually,
    ))
    .await
    .unwrap();

    let again = s
        .save_link(&Link::new(
            COMPANY,
            LinkKind::Project,
            10,
            p + 1,
            LinkOrigin::LinkedManually,
        ))
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict(_))),
        "the Procore side is taken: {again:?}"
    );
    let other = s
        .save_link(&Link::new(
            COMPANY,
            LinkKind::Project,
            11,
            p,
            LinkOrigin::LinkedManually,
        ))
        .await;
    assert!(
        matches!(other, Err(StoreError::Conflict(_))),
        "the local side is taken: {other:?}"
    );
    s.save_link(&Link::new(
        COMPANY + 1,
        LinkKind::Project,
        10,
        p,
        LinkOrigin::LinkedManually,
    ))
    .await
    .unwrap();

    let by_local = s
        .link_by_local(COMPANY, LinkKind::Project, p)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (by_local.procore_id, by_local.origin),
        (10, LinkOrigin::LinkedManually)
    );
    assert!(s.unlink(COMPANY, LinkKind::Project, 10).await.unwrap());
    assert_eq!(s.link(COMPANY, LinkKind::Project, 10).await.unwrap(), None);
});

both!(form_uploads_move_the_revision_forward, |ctx| {
    let s = &ctx.store;
    assert_eq!(s.uploaded_revision(COMPANY, 5).await.unwrap(), None);
    s.record_form_upload(COMPANY, 5, 3001, 1).await.unwrap();
    s.record_form_upload(COMPANY, 5, 3001, 2).await.unwrap();
    assert_eq!(s.uploaded_revision(COMPANY, 5).await.unwrap(), Some(2));
    let link = s
        .link(COMPANY, LinkKind::FormDocument, 3001)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (link.local_id, link.origin),
        (5, LinkOrigin::CreatedInProcore)
    );
    assert!(matches!(
        s.record_form_upload(COMPANY, 6, 3001, 1).await,
        Err(StoreError::Conflict(_))
    ));
});

both!(month_folders_are_found_by_project_and_month, |ctx| {
    let s = &ctx.store;
    for (folder, month) in [(500, "2026-10"), (501, "2026-11")] {
        let mut link = Link::new(
            COMPANY,
            LinkKind::MonthFolder,
            folder,
            7,
            LinkOrigin::CreatedInProcore,
        );
        link.local_key = month.into();
        s.save_link(&link).await.unwrap();
    }
    assert_eq!(
        s.month_folder(COMPANY, 7, "2026-11")
            .await
            .unwrap()
            .map(|l| l.procore_id),
        Some(501)
    );
    assert_eq!(s.month_folder(COMPANY, 7, "2026-12").await.unwrap(), None);
    assert_eq!(
        s.link_records(COMPANY, LinkKind::MonthFolder)
            .await
            .unwrap()
            .len(),
        2
    );
});
