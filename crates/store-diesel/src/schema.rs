// @generated automatically by Diesel CLI.

diesel::table! {
    checkpoints (register_id, log_name, origin, size) {
        register_id -> BigInt,
        log_name -> Text,
        origin -> Text,
        size -> BigInt,
        root -> Binary,
        note -> Text,
        signed_at -> BigInt,
    }
}

diesel::table! {
    cosignatures (register_id, log_name, origin, size, cosigner, key_id) {
        register_id -> BigInt,
        log_name -> Text,
        origin -> Text,
        size -> BigInt,
        cosigner -> Text,
        key_id -> BigInt,
        line -> Text,
        signed_at -> BigInt,
        received_at -> BigInt,
    }
}

diesel::table! {
    entries (register_id, log, number) {
        register_id -> BigInt,
        log -> SmallInt,
        number -> BigInt,
        timestamp -> BigInt,
        key -> Text,
        item_hashes -> Binary,
    }
}

diesel::table! {
    index_entries (register_id, index_name, index_entry_number) {
        register_id -> BigInt,
        index_name -> Text,
        index_entry_number -> BigInt,
        entry_number -> BigInt,
        timestamp -> BigInt,
        key -> Text,
        item_hashes -> Binary,
    }
}

diesel::table! {
    index_items (register_id, index_name, hash) {
        register_id -> BigInt,
        index_name -> Text,
        hash -> Binary,
    }
}

diesel::table! {
    index_logs (register_id, index_name) {
        register_id -> BigInt,
        index_name -> Text,
        size -> BigInt,
        root -> Binary,
        record_count -> BigInt,
        item_count -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    index_merkle_nodes (register_id, index_name, level, idx) {
        register_id -> BigInt,
        index_name -> Text,
        level -> SmallInt,
        idx -> BigInt,
        hash -> Binary,
    }
}

diesel::table! {
    items (hash) {
        hash -> Binary,
        canonical -> Text,
    }
}

diesel::table! {
    merkle_nodes (register_id, log, level, idx) {
        register_id -> BigInt,
        log -> SmallInt,
        level -> SmallInt,
        idx -> BigInt,
        hash -> Binary,
    }
}

diesel::table! {
    mirror_checkpoints (plan_uuid, slice_uuid, size) {
        plan_uuid -> Text,
        slice_uuid -> Text,
        size -> BigInt,
        root -> Binary,
        note -> Text,
        accepted_at -> BigInt,
    }
}

diesel::table! {
    node_settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    offers (register_name) {
        register_name -> Text,
        slice_uuid -> Text,
        description -> Text,
        offered_at -> BigInt,
    }
}

diesel::table! {
    plan_transitions (plan_uuid, seq) {
        plan_uuid -> Text,
        seq -> BigInt,
        status -> Text,
        status_message -> Nullable<Text>,
        actor -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    plans (uuid) {
        uuid -> Text,
        replaces_uuid -> Nullable<Text>,
        owner -> Text,
        initiator_role -> Text,
        status -> Text,
        status_message -> Nullable<Text>,
        status_on -> BigInt,
        document -> Text,
        primary_approved_on -> Nullable<BigInt>,
        secondary_approved_on -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    record_items (register_id, key, position) {
        register_id -> BigInt,
        key -> Text,
        position -> SmallInt,
        hash -> Binary,
    }
}

diesel::table! {
    records (register_id, log, key) {
        register_id -> BigInt,
        log -> SmallInt,
        key -> Text,
        entry_number -> BigInt,
    }
}

diesel::table! {
    register_items (register_id, hash) {
        register_id -> BigInt,
        hash -> Binary,
    }
}

diesel::table! {
    registers (id) {
        id -> BigInt,
        name -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        user_size -> BigInt,
        system_size -> BigInt,
        record_count -> BigInt,
        item_count -> BigInt,
        user_root -> Binary,
        system_root -> Binary,
        mirror_partner -> Nullable<Text>,
        mirror_plan -> Nullable<Text>,
        mirror_slice -> Nullable<Text>,
    }
}

diesel::table! {
    subscriptions (plan_uuid, slice_uuid) {
        plan_uuid -> Text,
        slice_uuid -> Text,
        remote -> Text,
        register_name -> Text,
        last_size -> BigInt,
        last_root -> Nullable<Binary>,
        last_success -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        updated_at -> BigInt,
        primary_size -> Nullable<BigInt>,
        checkpoint_key -> Nullable<Text>,
        cosigner_key -> Nullable<Text>,
    }
}

diesel::table! {
    users (name) {
        name -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    witness_evidence (origin, request_hash) {
        origin -> Text,
        request_hash -> Binary,
        note -> Text,
        old_size -> BigInt,
        proof -> Text,
        reason -> Text,
        received_at -> BigInt,
    }
}

diesel::table! {
    witness_submissions (witness_url, origin) {
        witness_url -> Text,
        origin -> Text,
        register_id -> BigInt,
        log_name -> Text,
        witness_size -> BigInt,
        cosigned_size -> Nullable<BigInt>,
        last_success -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        failures -> BigInt,
        next_attempt -> BigInt,
    }
}

diesel::table! {
    witnessed_logs (origin) {
        origin -> Text,
        verifier_key -> Text,
        source -> Text,
        size -> BigInt,
        root -> Binary,
        note -> Nullable<Text>,
        added_at -> BigInt,
        cosigned_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    witnesses (url) {
        url -> Text,
        verifier_key -> Text,
        added_at -> BigInt,
    }
}

diesel::table! {
    writer_tokens (id) {
        id -> BigInt,
        name -> Text,
        secret_hash -> Binary,
        scope -> Text,
        register_name -> Nullable<Text>,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(checkpoints -> registers (register_id));
diesel::joinable!(cosignatures -> registers (register_id));
diesel::joinable!(plan_transitions -> plans (plan_uuid));
diesel::joinable!(plans -> users (owner));
diesel::joinable!(witness_submissions -> registers (register_id));
diesel::joinable!(witness_submissions -> witnesses (witness_url));

diesel::allow_tables_to_appear_in_same_query!(
    checkpoints,
    cosignatures,
    entries,
    index_entries,
    index_items,
    index_logs,
    index_merkle_nodes,
    items,
    merkle_nodes,
    mirror_checkpoints,
    node_settings,
    offers,
    plan_transitions,
    plans,
    record_items,
    records,
    register_items,
    registers,
    subscriptions,
    users,
    witness_evidence,
    witness_submissions,
    witnessed_logs,
    witnesses,
    writer_tokens,
);
