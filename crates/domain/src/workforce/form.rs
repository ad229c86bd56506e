//! Safety form templates and submissions.
//!
//! A completed submission becomes a PDF in the project's Procore Documents. Every change after
//! completion (a signature added, an answer edited) is a new revision, and each revision must
//! reach Procore as a new version of the same document, so the revision number is what the
//! outbox keys on.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of answer a field takes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldKind {
    /// Static guidance; takes no answer.
    Instruction,
    /// A single acknowledgement tick.
    Checkbox,
    YesNoNa,
    PassFailNa,
    Text {
        /// One line when not given.
        #[serde(default)]
        multiline: bool,
    },
    Number,
    Date,
    Choice {
        options: Vec<String>,
    },
    MultiChoice {
        options: Vec<String>,
    },
    /// A signature captured with the signer and the time.
    Signature,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    /// Stable key that answers refer to.
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormSection {
    pub title: String,
    pub fields: Vec<FormField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormTemplate {
    pub id: i64,
    pub name: String,
    pub sections: Vec<FormSection>,
}

impl FormTemplate {
    pub fn fields(&self) -> impl Iterator<Item = &FormField> {
        self.sections.iter().flat_map(|s| s.fields.iter())
    }

    pub fn field(&self, key: &str) -> Option<&FormField> {
        self.fields().find(|f| f.key == key)
    }
}

/// An answer; its variant must suit its field's kind.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Answer {
    Checked(bool),
    Yes,
    No,
    Pass,
    Fail,
    NotApplicable,
    Text(String),
    Number(Decimal),
    Date(NaiveDate),
    Choice(String),
    Choices(Vec<String>),
}

impl Answer {
    /// The answer as a reader sees it in the PDF.
    pub fn display(&self) -> String {
        match self {
            Answer::Checked(true) => "Checked".into(),
            Answer::Checked(false) => "Not checked".into(),
            Answer::Yes => "Yes".into(),
            Answer::No => "No".into(),
            Answer::Pass => "Pass".into(),
            Answer::Fail => "Fail".into(),
            Answer::NotApplicable => "N/A".into(),
            Answer::Text(t) | Answer::Choice(t) => t.clone(),
            Answer::Number(n) => n.normalize().to_string(),
            Answer::Date(d) => d.format("%Y-%m-%d").to_string(),
            Answer::Choices(c) => c.join(", "),
        }
    }

    fn suits(&self, kind: &FieldKind) -> bool {
        match (kind, self) {
            (FieldKind::Checkbox, Answer::Checked(_)) => true,
            (FieldKind::YesNoNa, Answer::Yes | Answer::No | Answer::NotApplicable) => true,
            (FieldKind::PassFailNa, Answer::Pass | Answer::Fail | Answer::NotApplicable) => true,
            (FieldKind::Text { .. }, Answer::Text(_)) => true,
            (FieldKind::Number, Answer::Number(_)) => true,
            (FieldKind::Date, Answer::Date(_)) => true,
            (FieldKind::Choice { options }, Answer::Choice(c)) => options.contains(c),
            (FieldKind::MultiChoice { options }, Answer::Choices(cs)) => {
                cs.iter().all(|c| options.contains(c))
            }
            _ => false,
        }
    }
}

/// A signature: who signed which field, and when, and the mark they drew if they drew one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub field_key: String,
    pub signer_name: String,
    pub worker_id: Option<i64>,
    pub signed_at: DateTime<Utc>,
    /// Absent when the signer signed by name alone (a keyboard, a script).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawing: Option<Drawing>,
}

/// A signature drawn with a finger or a mouse: strokes of points on a fixed grid of
/// [`Drawing::WIDTH`] × [`Drawing::HEIGHT`] (origin top left), whatever the size of the screen
/// it was drawn on, so the PDF and every page scale it alike. Bounded, so that one signature
/// cannot swell a form's record or its PDF.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawDrawing")]
pub struct Drawing {
    /// Each stroke the points one touch passed through, in order, each `[x, y]`.
    strokes: Vec<Vec<[u16; 2]>>,
}

#[derive(Deserialize)]
struct RawDrawing {
    strokes: Vec<Vec<[u16; 2]>>,
}

/// Why a drawing was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawingError {
    #[error("the drawing has no point; draw the signature, or sign without a drawing")]
    Empty,
    #[error(
        "the point [{x}, {y}] is outside the drawing's {}×{} grid; scale points to it",
        Drawing::WIDTH,
        Drawing::HEIGHT
    )]
    OutOfBounds { x: u16, y: u16 },
    #[error(
        "the drawing has {0} points, more than the {max} a signature may have; send fewer (every few pixels is enough)",
        max = Drawing::MAX_POINTS
    )]
    TooLarge(usize),
}

impl Drawing {
    /// Grid width; with [`Drawing::HEIGHT`] the 10:3 shape of a signature line.
    pub const WIDTH: u16 = 1000;
    pub const HEIGHT: u16 = 300;
    /// A signature drawn slowly for several seconds has a few hundred points.
    pub const MAX_POINTS: usize = 5000;

    /// A drawing of these strokes; strokes without a point are dropped.
    ///
    /// # Errors
    /// No point at all, a point off the grid, or more than [`Drawing::MAX_POINTS`] points.
    pub fn new(strokes: Vec<Vec<[u16; 2]>>) -> Result<Self, DrawingError> {
        let strokes: Vec<_> = strokes.into_iter().filter(|s| !s.is_empty()).collect();
        let points = strokes.iter().map(Vec::len).sum::<usize>();
        if points == 0 {
            return Err(DrawingError::Empty);
        }
        if points > Self::MAX_POINTS {
            return Err(DrawingError::TooLarge(points));
        }
        if let Some(&[x, y]) = strokes
            .iter()
            .flatten()
            .find(|[x, y]| *x > Self::WIDTH || *y > Self::HEIGHT)
        {
            return Err(DrawingError::OutOfBounds { x, y });
        }
        Ok(Drawing { strokes })
    }

    /// The strokes, each a list of `[x, y]` on the grid.
    pub fn strokes(&self) -> &[Vec<[u16; 2]>] {
        &self.strokes
    }
}

impl TryFrom<RawDrawing> for Drawing {
    type Error = DrawingError;

    fn try_from(raw: RawDrawing) -> Result<Self, Self::Error> {
        Drawing::new(raw.strokes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SubmissionState {
    Draft,
    Completed,
}

/// A filled-in form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub id: i64,
    pub template_id: i64,
    pub project_id: i64,
    /// The form's date: it names the month folder and the document.
    pub form_date: NaiveDate,
    pub state: SubmissionState,
    pub answers: BTreeMap<String, Answer>,
    pub signatures: Vec<Signature>,
    /// 0 while a draft, 1 at completion, and one more for every change after completion.
    pub revision: u32,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Why a submission cannot be completed or changed as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the required field \"{0}\" has no answer; answer it before completing the form")]
    MissingAnswer(String),
    #[error(
        "the required signature \"{0}\" is missing; have it signed before completing the form"
    )]
    MissingSignature(String),
    #[error("the answer to \"{field}\" does not suit a {kind} field")]
    WrongAnswerKind { field: String, kind: String },
    #[error("the form has no field \"{0}\"")]
    UnknownField(String),
    #[error("the form is already completed")]
    AlreadyCompleted,
}

impl Submission {
    /// A new draft.
    pub fn draft(id: i64, template_id: i64, project_id: i64, form_date: NaiveDate) -> Self {
        Submission {
            id,
            template_id,
            project_id,
            form_date,
            state: SubmissionState::Draft,
            answers: BTreeMap::new(),
            signatures: Vec::new(),
            revision: 0,
            completed_at: None,
        }
    }

    /// Sets an answer, checking it suits the field. After completion this is a new revision.
    ///
    /// # Errors
    /// An unknown field, or an answer of the wrong kind.
    pub fn answer(
        &mut self,
        template: &FormTemplate,
        key: &str,
        answer: Answer,
    ) -> Result<(), FormError> {
        let field = template
            .field(key)
            .ok_or_else(|| FormError::UnknownField(key.into()))?;
        if !answer.suits(&field.kind) {
            return Err(FormError::WrongAnswerKind {
                field: field.label.clone(),
                kind: format!("{:?}", field.kind),
            });
        }
        self.answers.insert(key.into(), answer);
        self.bump_revision();
        Ok(())
    }

    /// Sets several answers as one change (`None` removes one): after completion, one new
    /// revision when any of them differs from what the form holds, none when all are the
    /// same (a page saved again sends every answer it shows). Nothing is set unless every
    /// answer suits its field; the refusals come back by key.
    pub fn answer_all(
        &mut self,
        template: &FormTemplate,
        answers: BTreeMap<String, Option<Answer>>,
    ) -> Result<(), Vec<(String, FormError)>> {
        let mut refused = Vec::new();
        for (key, answer) in &answers {
            match (template.field(key), answer) {
                (None, _) => refused.push((key.clone(), FormError::UnknownField(key.clone()))),
                (Some(field), Some(answer)) if !answer.suits(&field.kind) => refused.push((
                    key.clone(),
                    FormError::WrongAnswerKind {
                        field: field.label.clone(),
                        kind: format!("{:?}", field.kind),
                    },
                )),
                _ => {}
            }
        }
        if !refused.is_empty() {
            return Err(refused);
        }
        let mut changed = false;
        for (key, answer) in answers {
            if self.answers.get(&key) != answer.as_ref() {
                match answer {
                    Some(answer) => self.answers.insert(key, answer),
                    None => self.answers.remove(&key),
                };
                changed = true;
            }
        }
        if changed {
            self.bump_revision();
        }
        Ok(())
    }

    /// Adds a signature. After completion this is a new revision.
    ///
    /// # Errors
    /// The field does not exist or is not a signature field.
    pub fn sign(&mut self, template: &FormTemplate, signature: Signature) -> Result<(), FormError> {
        let field = template
            .field(&signature.field_key)
            .ok_or_else(|| FormError::UnknownField(signature.field_key.clone()))?;
        if field.kind != FieldKind::Signature {
            return Err(FormError::WrongAnswerKind {
                field: field.label.clone(),
                kind: format!("{:?}", field.kind),
            });
        }
        self.signatures.push(signature);
        self.bump_revision();
        Ok(())
    }

    /// Completes the form: every required field answered and every required signature present.
    ///
    /// # Errors
    /// Every required answer and signature still missing, in the template's order, each with
    /// its field, so the person filling the form can fix them all at once.
    pub fn missing<'t>(&self, template: &'t FormTemplate) -> Vec<(&'t FormField, FormError)> {
        template
            .fields()
            .filter(|f| f.required)
            .filter_map(|field| match field.kind {
                FieldKind::Instruction => None,
                FieldKind::Signature => (!self.signatures.iter().any(|s| s.field_key == field.key))
                    .then(|| (field, FormError::MissingSignature(field.label.clone()))),
                // A required tick is an acknowledgement: unticked, it is not given.
                FieldKind::Checkbox => (self.answers.get(&field.key)
                    != Some(&Answer::Checked(true)))
                .then(|| (field, FormError::MissingAnswer(field.label.clone()))),
                _ => (!self.answers.contains_key(&field.key))
                    .then(|| (field, FormError::MissingAnswer(field.label.clone()))),
            })
            .collect()
    }

    /// Completes the form; refused with the first thing still missing ([`Submission::missing`]
    /// lists them all).
    pub fn complete(
        &mut self,
        template: &FormTemplate,
        now: DateTime<Utc>,
    ) -> Result<(), FormError> {
        if self.state == SubmissionState::Completed {
            return Err(FormError::AlreadyCompleted);
        }
        if let Some((_, first)) = self.missing(template).into_iter().next() {
            return Err(first);
        }
        self.state = SubmissionState::Completed;
        self.completed_at = Some(now);
        self.revision = 1;
        Ok(())
    }

    fn bump_revision(&mut self) {
        if self.state == SubmissionState::Completed {
            self.revision += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completed_form_saved_with_one_answer_changed_or_taken_back_is_one_new_revision_and_saved_unchanged_is_none(
    ) {
        let t = template();
        let mut s = Submission::draft(1, 1, 1, "2026-11-22".parse().unwrap());
        s.answer(&t, "topic", Answer::Text("Ladders".into()))
            .unwrap();
        s.answer(&t, "ppe", Answer::Yes).unwrap();
        s.sign(&t, signature()).unwrap();
        s.complete(&t, now()).unwrap();
        let page = |topic: &str| {
            BTreeMap::from([
                ("topic".to_string(), Some(Answer::Text(topic.into()))),
                ("ppe".to_string(), Some(Answer::Yes)),
            ])
        };
        s.answer_all(&t, page("Ladders")).unwrap();
        assert_eq!(s.revision, 1, "nothing changed");
        s.answer_all(&t, page("Ladders and scaffolds")).unwrap();
        assert_eq!(s.revision, 2, "one change, one revision");
        let refused = s
            .answer_all(
                &t,
                BTreeMap::from([
                    ("topic".to_string(), Some(Answer::Yes)),
                    ("nope".to_string(), Some(Answer::Yes)),
                ]),
            )
            .unwrap_err();
        let keys: Vec<&str> = refused.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["nope", "topic"]);
        assert_eq!(
            s.answers["topic"],
            Answer::Text("Ladders and scaffolds".into())
        );
    }

    fn template() -> FormTemplate {
        FormTemplate {
            id: 1,
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
                        label: "PPE worn".into(),
                        kind: FieldKind::YesNoNa,
                        required: false,
                    },
                    FormField {
                        key: "sig".into(),
                        label: "Supervisor signature".into(),
                        kind: FieldKind::Signature,
                        required: true,
                    },
                ],
            }],
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-22T10:00:00Z".parse().unwrap()
    }

    fn signature() -> Signature {
        Signature {
            field_key: "sig".into(),
            signer_name: "Ann Lee".into(),
            worker_id: Some(7),
            signed_at: now(),
            drawing: None,
        }
    }

    #[test]
    fn a_drawing_keeps_its_strokes_through_json_and_a_signature_without_one_reads_as_before() {
        let d = Drawing::new(vec![vec![[10, 20], [30, 40]], vec![], vec![[1000, 300]]]).unwrap();
        assert_eq!(d.strokes().len(), 2, "an empty stroke is dropped");
        let signed = Signature {
            drawing: Some(d.clone()),
            ..signature()
        };
        let json = serde_json::to_value(&signed).unwrap();
        assert_eq!(
            json["drawing"],
            serde_json::json!({"strokes": [[[10, 20], [30, 40]], [[1000, 300]]]})
        );
        assert_eq!(serde_json::from_value::<Signature>(json).unwrap(), signed);
        let mut old = serde_json::to_value(signature()).unwrap();
        assert!(old.get("drawing").is_none());
        old.as_object_mut().unwrap().remove("drawing");
        assert_eq!(
            serde_json::from_value::<Signature>(old).unwrap().drawing,
            None
        );
    }

    #[test]
    fn a_drawing_with_no_point_a_point_off_the_grid_or_too_many_points_is_refused() {
        assert_eq!(Drawing::new(vec![vec![]]), Err(DrawingError::Empty));
        assert_eq!(
            Drawing::new(vec![vec![[5, 5], [1001, 5]]]),
            Err(DrawingError::OutOfBounds { x: 1001, y: 5 })
        );
        assert_eq!(
            Drawing::new(vec![vec![[5, 301]]]),
            Err(DrawingError::OutOfBounds { x: 5, y: 301 })
        );
        let many = vec![vec![[1, 1]; 3000], vec![[2, 2]; 3000]];
        assert_eq!(Drawing::new(many), Err(DrawingError::TooLarge(6000)));
        let from_json =
            serde_json::from_value::<Drawing>(serde_json::json!({"strokes": [[[5, 999]]]}));
        assert!(from_json
            .unwrap_err()
            .to_string()
            .contains("outside the drawing's 1000×300 grid"));
    }

    #[test]
    fn a_required_tick_left_unticked_is_missing() {
        let mut t = template();
        t.sections[0].fields.push(FormField {
            key: "briefed".into(),
            label: "I was briefed".into(),
            kind: FieldKind::Checkbox,
            required: true,
        });
        let mut s = Submission::draft(1, 1, 1, "2026-11-22".parse().unwrap());
        s.answer(&t, "topic", Answer::Text("Ladders".into()))
            .unwrap();
        s.sign(&t, signature()).unwrap();
        s.answer(&t, "briefed", Answer::Checked(false)).unwrap();
        let missing: Vec<&str> = s.missing(&t).iter().map(|(f, _)| f.key.as_str()).collect();
        assert_eq!(missing, ["briefed"]);
        s.answer(&t, "briefed", Answer::Checked(true)).unwrap();
        assert!(s.missing(&t).is_empty());
        s.complete(&t, now()).unwrap();
    }

    #[test]
    fn a_form_completes_only_with_every_required_answer_and_signature() {
        let t = template();
        let mut s = Submission::draft(1, 1, 1, "2026-11-22".parse().unwrap());
        assert_eq!(
            s.complete(&t, now()),
            Err(FormError::MissingAnswer("Topic".into()))
        );
        s.answer(&t, "topic", Answer::Text("Ladders".into()))
            .unwrap();
        assert_eq!(
            s.complete(&t, now()),
            Err(FormError::MissingSignature("Supervisor signature".into()))
        );
        s.sign(&t, signature()).unwrap();
        s.complete(&t, now()).unwrap();
        assert_eq!((s.state, s.revision), (SubmissionState::Completed, 1));
    }

    #[test]
    fn every_change_after_completion_is_a_new_revision_and_drafts_stay_at_zero() {
        let t = template();
        let mut s = Submission::draft(1, 1, 1, "2026-11-22".parse().unwrap());
        s.answer(&t, "topic", Answer::Text("Ladders".into()))
            .unwrap();
        s.sign(&t, signature()).unwrap();
        assert_eq!(s.revision, 0);
        s.complete(&t, now()).unwrap();
        s.sign(
            &t,
            Signature {
                signer_name: "Bo Chen".into(),
                ..signature()
            },
        )
        .unwrap();
        assert_eq!(s.revision, 2);
        s.answer(&t, "ppe", Answer::Yes).unwrap();
        assert_eq!(s.revision, 3);
    }

    #[test]
    fn an_answer_that_does_not_suit_its_field_is_refused() {
        let t = template();
        let mut s = Submission::draft(1, 1, 1, "2026-11-22".parse().unwrap());
        assert!(matches!(
            s.answer(&t, "ppe", Answer::Pass),
            Err(FormError::WrongAnswerKind { .. })
        ));
        assert_eq!(
            s.answer(&t, "nope", Answer::Yes),
            Err(FormError::UnknownField("nope".into()))
        );
    }
}
