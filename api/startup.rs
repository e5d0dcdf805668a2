//! Builds the HTTP server from a bound listener, so the binary binds its configured address
//! and tests bind port 0 and talk real HTTP to it.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, HttpServer};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::mail::sender::{self, Delivery};
use crate::ops::metrics::Metrics;
use crate::problem::{
    json_config, literal_paths_first, localize_problems, not_found_or_method_not_allowed,
    path_config, query_config, RouteTable,
};
use crate::state::AppState;
use crate::{idempotency, openapi, ops, pages, routes};

/// Builds the server and starts the background mail sender; call it inside the runtime.
pub fn run(state: AppState, listener: TcpListener) -> anyhow::Result<actix_web::dev::Server> {
    let delivery = Delivery::from_settings(&state.settings.mail)?;
    sender::spawn(state.db.clone(), delivery, state.settings.mail.clone());
    crate::digest::spawn(state.db.clone(), state.settings.clone());
    crate::adoption::counters::spawn_folder(state.db.clone());
    crate::reorganisations::spawn_scheduler(state.db.clone());
    let spec = openapi::spec();
    let route_table = web::Data::new(RouteTable::from_openapi(&spec));
    let served = web::Data::new(ServedContract(openapi::spec_json()));
    let metrics = web::Data::new(Metrics::new()?);
    let settings = web::Data::from(state.settings.clone());
    let origins = state.settings.http.cors_allowed_origins.clone();
    let workers = state.settings.http.workers;
    let tls = match &state.settings.http.tls {
        Some(files) => Some(files.server_config()?),
        None => None,
    };
    let serves_tls = tls.is_some();
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(settings.clone())
            .app_data(metrics.clone())
            .app_data(route_table.clone())
            .app_data(served.clone())
            .app_data(json_config())
            .app_data(query_config())
            .app_data(path_config())
            .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
            .wrap(from_fn(literal_paths_first))
            .wrap(from_fn(localize_problems))
            .wrap(from_fn(idempotency::middleware))
            // Outside the idempotency layer, so stored answers are kept uncompressed.
            .wrap(actix_web::middleware::Compress::default())
            .wrap(ops::security_headers(serves_tls))
            .wrap(from_fn(ops::request_id_header))
            .wrap(from_fn(ops::metrics::record))
            .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
            .into_utoipa_app()
            .configure(routes::configure)
            .into_app()
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::from("/openapi.json")),
            )
            .route("/openapi.json", web::get().to(served_contract))
            .service(web::redirect("/docs", "/docs/"))
            .service(pages::accept_invitation_page)
            .service(pages::reset_password_page)
            .service(pages::set_password_script)
            .configure(pages::app::configure)
            .service(pages::dashboard::home)
            .service(pages::dashboard::dashboard)
            .service(pages::dashboard::dashboard_script)
            .default_service(web::to(not_found_or_method_not_allowed))
    });
    let mut server = match tls {
        Some(config) => server.listen_rustls_0_23(listener, config)?,
        None => server.listen(listener)?,
    };
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}

/// The contract exactly as committed (`openapi/openapi.json`).
async fn served_contract(contract: web::Data<ServedContract>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(contract.0.clone())
}

struct ServedContract(String);

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "accept-language",
            "if-match",
            "idempotency-key",
        ])
        .expose_headers(["etag", "location", "retry-after", "x-request-id"])
        .max_age(3600)
}
