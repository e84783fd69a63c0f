use leptos::prelude::*;

use crate::model::AppError;

use crate::model::User;

/// The signed-in user, for the navigation.
#[server(output = crate::api::Answer, input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    Ok(super::guard::session_user())
}
