//! Every route of the API in one place. Handlers are registered with `.service()` so that
//! utoipa collects each into the contract.

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    adoption, areas, audit, auth, conflicts, digest, duplicates, households, imports, invitations,
    ops, residents, sessions, status, sync, targets, users, visits, volunteers,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(ops::health::healthz)
        .service(ops::health::readyz)
        .service(ops::metrics::get_metrics)
        .service(
            scope::scope("/api/v1")
                .service(auth::login::login)
                .service(auth::refresh::refresh)
                .service(auth::logout::logout)
                .service(auth::password_reset::request_password_reset)
                .service(auth::password_reset::confirm_password_reset)
                .service(users::me::get_me)
                .service(sessions::mine::list_my_sessions)
                .service(sessions::mine::revoke_my_session)
                .service(users::list::list_users)
                .service(users::create::create_user)
                .service(users::get::get_user)
                .service(users::update::update_user)
                .service(sessions::of_user::list_user_sessions)
                .service(sessions::of_user::revoke_user_session)
                .service(volunteers::activity::volunteer_activity)
                .service(volunteers::list::list_volunteers)
                .service(volunteers::assignments::assign_volunteer)
                .service(volunteers::assignments::unassign_volunteer)
                .service(volunteers::disable::disable_volunteer)
                .service(invitations::create::create_invitation)
                .service(invitations::list::list_invitations)
                .service(invitations::accept::accept_invitation)
                .service(invitations::revoke::revoke_invitation)
                .service(areas::list::list_areas)
                .service(areas::create::create_area)
                .service(areas::get::get_area)
                .service(areas::update::update_area)
                .service(targets::get_targets)
                .service(adoption::export::export_figures)
                .service(adoption::children::get_children)
                .service(adoption::series::get_series)
                .service(adoption::breakdown::get_breakdown)
                .service(adoption::figures::get_adoption)
                .service(digest::subscription::get_digest)
                .service(digest::subscription::put_digest)
                .service(targets::put_targets)
                .service(audit::list::list_audit)
                .service(households::export::export_households)
                .service(households::activation::activation_list)
                .service(households::list::list_households)
                .service(households::create::create_household)
                .service(households::get::get_household)
                .service(households::update::update_household)
                .service(households::delete::delete_household)
                .service(residents::create::create_resident)
                .service(visits::list::list_household_visits)
                .service(residents::list::list_residents)
                .service(residents::get::get_resident)
                .service(residents::update::update_resident)
                .service(residents::erase::erase_resident)
                .service(residents::delete::delete_resident)
                .service(status::history::resident_history)
                .service(status::record::record_status_events)
                .service(visits::record::record_visit)
                .service(visits::void::void_visit)
                .service(duplicates::list::list_duplicates)
                .service(duplicates::resolve::merge_duplicate)
                .service(duplicates::resolve::dismiss_duplicate)
                .service(imports::import_households)
                .service(imports::import_template)
                .service(sync::push::sync_push)
                .service(sync::pull::sync_pull)
                .service(sync::state::sync_state)
                .service(conflicts::list::list_conflicts)
                .service(conflicts::resolve::resolve_conflict),
        );
}
