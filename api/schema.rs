//! The one diesel schema for both backends. Only types that SQLite and PostgreSQL both
//! support through `MultiConnection` appear here: ids and enums are text, timestamps are UTC.

diesel::table! {
    areas (id) {
        id -> Text,
        parent_id -> Nullable<Text>,
        kind -> Text,
        code -> Text,
        name -> Text,
        path -> Text,
        official_adult_population -> Nullable<BigInt>,
        official_household_count -> Nullable<BigInt>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        ended_on -> Nullable<Date>,
        succeeded_by -> Nullable<Text>,
    }
}

diesel::table! {
    reorganisations (id) {
        id -> Text,
        effective_on -> Date,
        status -> Text,
        title -> Text,
        area_path -> Text,
        plan -> Text,
        summary -> Nullable<Text>,
        failure -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        applied_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        cancelled_by -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        version -> Integer,
    }
}

diesel::table! {
    area_changes (id) {
        id -> Text,
        reorganisation_id -> Text,
        area_id -> Text,
        change -> Text,
        other_area_id -> Nullable<Text>,
        old_name -> Nullable<Text>,
        new_name -> Nullable<Text>,
        old_parent_id -> Nullable<Text>,
        new_parent_id -> Nullable<Text>,
        effective_on -> Date,
    }
}

diesel::table! {
    household_locations (household_id, until_on) {
        household_id -> Text,
        area_path -> Text,
        from_on -> Date,
        until_on -> Date,
        reorganisation_id -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Nullable<Text>,
        name -> Text,
        role -> Text,
        area_id -> Nullable<Text>,
        password_hash -> Text,
        language -> Text,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        digest_subscribed -> Bool,
        phone -> Nullable<Text>,
    }
}

diesel::table! {
    digest_deliveries (user_id, week_of) {
        user_id -> Text,
        week_of -> Date,
        queued_at -> Timestamp,
    }
}

diesel::table! {
    volunteer_assignments (user_id, area_id) {
        user_id -> Text,
        area_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refresh_families (id) {
        id -> Text,
        user_id -> Text,
        user_agent -> Nullable<Text>,
        client_ip -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        spent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        occurred_at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Text>,
        area_id -> Nullable<Text>,
        client_ip -> Nullable<Text>,
        changes -> Text,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        created_at -> Timestamp,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        user_id -> Text,
        invited_by -> Nullable<Text>,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        replaced_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    password_resets (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    throttle_counters (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    households (id) {
        id -> Text,
        area_id -> Text,
        area_path -> Text,
        code -> Nullable<Text>,
        address -> Text,
        head_name -> Text,
        phone -> Nullable<Text>,
        search_text -> Text,
        broadband -> Text,
        last_visited_on -> Nullable<Date>,
        version -> Integer,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        deleted_by -> Nullable<Text>,
        sync_seq -> BigInt,
    }
}

diesel::table! {
    residents (id) {
        id -> Text,
        household_id -> Text,
        full_name -> Nullable<Text>,
        search_text -> Text,
        birth_year -> Integer,
        birth_month -> Nullable<Integer>,
        birth_day -> Nullable<Integer>,
        birth_date -> Date,
        birth_date_estimated -> Bool,
        adult_on -> Date,
        sex -> Text,
        relation_to_head -> Text,
        presence -> Text,
        presence_since -> Nullable<Date>,
        consent -> Bool,
        consent_recorded_at -> Nullable<Timestamp>,
        citizen_id_hash -> Nullable<Text>,
        citizen_id_last4 -> Nullable<Text>,
        eid_level -> Text,
        signature -> Text,
        signature_expires_on -> Nullable<Date>,
        erased_at -> Nullable<Timestamp>,
        version -> Integer,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        deleted_by -> Nullable<Text>,
        sync_seq -> BigInt,
    }
}

diesel::table! {
    visits (id) {
        id -> Text,
        household_id -> Text,
        volunteer_id -> Nullable<Text>,
        visited_at -> Timestamp,
        outcome -> Text,
        notes -> Nullable<Text>,
        received_at -> Timestamp,
        voided_at -> Nullable<Timestamp>,
        voided_by -> Nullable<Text>,
        void_reason -> Nullable<Text>,
        sync_seq -> BigInt,
    }
}

diesel::table! {
    status_events (id) {
        id -> Text,
        household_id -> Text,
        resident_id -> Nullable<Text>,
        kind -> Text,
        value -> Text,
        effective_on -> Date,
        issued_on -> Nullable<Date>,
        expires_on -> Nullable<Date>,
        correction -> Bool,
        visit_id -> Nullable<Text>,
        recorded_by -> Nullable<Text>,
        received_at -> Timestamp,
        voided_at -> Nullable<Timestamp>,
        sync_seq -> BigInt,
    }
}

diesel::table! {
    duplicate_pairs (id) {
        id -> Text,
        resident_a -> Text,
        resident_b -> Text,
        area_path -> Text,
        reason -> Text,
        status -> Text,
        survivor_id -> Nullable<Text>,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Nullable<Integer>,
        content_type -> Nullable<Text>,
        response_body -> Nullable<Text>,
        response_headers -> Nullable<Text>,
        created_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        holder -> Nullable<Text>,
        localized_body -> Nullable<Text>,
    }
}

diesel::table! {
    targets (id) {
        id -> Text,
        area_id -> Nullable<Text>,
        indicator -> Text,
        comparison -> Text,
        threshold_basis_points -> Integer,
        deadline -> Date,
        updated_by -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    adoption_delta_log (id) {
        id -> BigInt,
        area_path -> Text,
        measure -> Text,
        day -> Date,
        delta -> BigInt,
    }
}

diesel::table! {
    adoption_fold_state (id) {
        id -> Integer,
        generation -> BigInt,
    }
}

diesel::table! {
    adoption_spans (subject_id, measure, starts_on) {
        subject_id -> Text,
        measure -> Text,
        area_path -> Text,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
    }
}

diesel::table! {
    adoption_deltas (area_path, grain, period_start, measure) {
        area_path -> Text,
        grain -> Text,
        period_start -> Date,
        measure -> Text,
        delta -> BigInt,
    }
}

diesel::table! {
    devices (id) {
        id -> Text,
        user_id -> Text,
        last_seq -> BigInt,
        app_version -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        last_push_at -> Nullable<Timestamp>,
        last_pull_at -> Nullable<Timestamp>,
        queued_items -> Nullable<Integer>,
        queued_reported_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sync_mutations (device_id, seq) {
        device_id -> Text,
        seq -> BigInt,
        entity -> Text,
        op -> Text,
        entity_id -> Text,
        payload_hash -> Text,
        result -> Text,
        problem_code -> Nullable<Text>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    assignment_periods (id) {
        id -> Text,
        user_id -> Text,
        area_id -> Text,
        assigned_at -> Timestamp,
        unassigned_at -> Nullable<Timestamp>,
        sync_seq -> BigInt,
    }
}

diesel::table! {
    field_versions (entity_id, field) {
        entity_id -> Text,
        field -> Text,
        version -> Integer,
    }
}

diesel::table! {
    sync_conflicts (id) {
        id -> Text,
        area_id -> Text,
        area_path -> Text,
        household_id -> Text,
        entity -> Text,
        entity_id -> Text,
        field -> Text,
        server_value -> Text,
        phone_value -> Text,
        base_version -> Integer,
        server_version -> Integer,
        device_id -> Text,
        seq -> BigInt,
        recorded_by -> Nullable<Text>,
        created_at -> Timestamp,
        status -> Text,
        resolution -> Nullable<Text>,
        resolved_by -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sync_clock (id) {
        id -> Integer,
        value -> BigInt,
    }
}

diesel::table! {
    sign_offs (id) {
        id -> Text,
        area_id -> Text,
        area_path -> Text,
        period -> Text,
        period_end -> Date,
        due_on -> Date,
        figures -> Text,
        note -> Nullable<Text>,
        signed_by -> Text,
        signed_at -> Timestamp,
        signed_on -> Date,
        reopened_by -> Nullable<Text>,
        reopened_at -> Nullable<Timestamp>,
        reopen_reason -> Nullable<Text>,
    }
}

diesel::table! {
    data_requests (id) {
        id -> Text,
        area_id -> Text,
        area_path -> Text,
        resident_id -> Nullable<Text>,
        kind -> Text,
        channel -> Text,
        details -> Nullable<Text>,
        received_on -> Date,
        acknowledge_by -> Date,
        acknowledged_on -> Nullable<Date>,
        due_on -> Date,
        extended_to -> Nullable<Date>,
        extension_reason -> Nullable<Text>,
        status -> Text,
        outcome -> Nullable<Text>,
        closed_on -> Nullable<Date>,
        closed_by -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    data_breaches (id) {
        id -> Text,
        area_id -> Text,
        area_path -> Text,
        discovered_at -> Timestamp,
        description -> Text,
        data_categories -> Text,
        subjects_affected -> Nullable<Integer>,
        measures -> Nullable<Text>,
        report_by -> Timestamp,
        authority_notified_at -> Nullable<Timestamp>,
        subjects_notified_at -> Nullable<Timestamp>,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    report_templates (id) {
        id -> Text,
        name -> Text,
        area_path -> Text,
        cells -> Text,
        row_line -> Integer,
        file -> Binary,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(residents -> households (household_id));
diesel::joinable!(sync_conflicts -> households (household_id));
diesel::joinable!(assignment_periods -> areas (area_id));
diesel::joinable!(visits -> households (household_id));
diesel::joinable!(status_events -> households (household_id));
diesel::joinable!(status_events -> residents (resident_id));
diesel::joinable!(status_events -> visits (visit_id));
diesel::joinable!(households -> areas (area_id));
diesel::joinable!(users -> areas (area_id));
diesel::joinable!(digest_deliveries -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(volunteer_assignments -> users (user_id));
diesel::joinable!(volunteer_assignments -> areas (area_id));
diesel::joinable!(refresh_families -> users (user_id));
diesel::joinable!(refresh_tokens -> refresh_families (family_id));

diesel::allow_tables_to_appear_in_same_query!(
    sign_offs,
    report_templates,
    data_requests,
    data_breaches,
    devices,
    sync_mutations,
    assignment_periods,
    reorganisations,
    area_changes,
    household_locations,
    field_versions,
    sync_conflicts,
    sync_clock,
    digest_deliveries,
    adoption_spans,
    adoption_deltas,
    adoption_delta_log,
    adoption_fold_state,
    targets,
    idempotency_keys,
    duplicate_pairs,
    households,
    residents,
    visits,
    status_events,
    audit_log,
    mail_outbox,
    invitations,
    password_resets,
    throttle_counters,
    areas,
    users,
    volunteer_assignments,
    refresh_families,
    refresh_tokens,
);
