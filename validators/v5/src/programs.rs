//! `list_master` (§3.9): two translators read the same record. The master-list one sets is_active to
//! NOT `inactive`, defaulting to true, so a missing or null `inactive` silently makes the list
//! inactive. The program one needs, when `isProgram` is true, a non-empty `programSettings` object
//! whose store tags are name-tag descriptions and whose period schedules are schedule names on the
//! site; otherwise the whole record fails.

use serde_json::Value;

use crate::semantics::{Ctx, Stop};

pub(crate) fn list_master(ctx: &mut Ctx) -> Result<(), Stop> {
    if matches!(ctx.data.get("inactive"), None | Some(Value::Null)) {
        ctx.defects.push(
            "inactive: missing or null, so the list becomes inactive (send \"inactive\": false for active lists)"
                .to_string(),
        );
    }
    if ctx.data.get("isProgram") != Some(&Value::Bool(true)) {
        return Ok(());
    }
    let settings = match ctx.data.get("programSettings") {
        Some(Value::Object(settings)) if !settings.is_empty() => settings,
        other => {
            let shown = other.map_or_else(|| "nothing".to_string(), Value::to_string);
            return Err(Stop::Rejected(format!(
                "programSettings: isProgram is true, so it must be a non-empty object, got {shown}"
            )));
        }
    };
    let Some(Value::Object(store_tags)) = settings.get("storeTags") else {
        return Ok(());
    };
    for (tag, tag_settings) in store_tags {
        if !ctx
            .state
            .tag_descriptions
            .values()
            .any(|description| description == tag)
        {
            return Err(Stop::Rejected(format!(
                "programSettings.storeTags: {tag:?} is not the description of a name_tag on the site"
            )));
        }
        let schedule = tag_settings
            .get("periodScheduleName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !ctx.state.schedule_names.values().any(|name| name == schedule) {
            return Err(Stop::Rejected(format!(
                "programSettings.storeTags.{tag}.periodScheduleName: {schedule:?} is not the name of a periodSchedule on the site"
            )));
        }
    }
    Ok(())
}
