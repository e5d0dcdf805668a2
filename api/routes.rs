//! Every route of the API in one place. Handlers are registered with `.service()` so that
//! utoipa collects each into the contract.

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{areas, auth, ops, users};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(ops::health::healthz)
        .service(ops::health::readyz)
        .service(ops::metrics::get_metrics)
        .service(
            scope::scope("/api/v1")
                .service(auth::login::login)
                .service(auth::refresh::refresh)
                .service(auth::logout::logout)
                .service(users::me::get_me)
                .service(users::list::list_users)
                .service(users::create::create_user)
                .service(users::get::get_user)
                .service(users::update::update_user)
                .service(areas::list::list_areas)
                .service(areas::create::create_area)
                .service(areas::get::get_area)
                .service(areas::update::update_area),
        );
}
