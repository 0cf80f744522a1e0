//! The Bloks params of the CAA login's steps, field for field and in instagrapi 3.2.2's
//! order (the golden traces compare them), and the SIM network description they carry.

use serde_json::{Value, json};

use crate::client::now_ms;
use crate::session::Uuids;
use crate::types::Credentials;

/// The experiment groups instagrapi reports, constants of its own.
const OFFLINE_EXPERIMENT_GROUP: &str = "caa_iteration_v3_perf_ig_4";
const HOMEPAGE_EXPERIMENT_GROUP: &str = "Deploy: Not in Experiment";

/// One CAA login attempt: what every step's params repeat.
pub(super) struct CaaFlow<'a> {
    pub(super) creds: Credentials<'a>,
    pub(super) ids: Uuids,
    /// One id for the whole attempt, as the app's login waterfall.
    pub(super) waterfall: String,
    /// `si_device_param_network_info`.
    pub(super) network_info: Value,
}

impl CaaFlow<'_> {
    /// The login homepage: one flat object (`bloks_caa_login_process_client_data`).
    pub(super) fn homepage(&self) -> Value {
        json!({
            "is_from_logged_out": false,
            "logged_out_user": "",
            "qpl_join_id": null,
            "family_device_id": self.ids.phone_id,
            "device_id": self.ids.android_device_id,
            "offline_experiment_group": OFFLINE_EXPERIMENT_GROUP,
            "waterfall_id": self.waterfall,
            "logout_source": "",
            "show_internal_settings": false,
            "last_auto_login_time": 0,
            "disable_auto_login": false,
            "qe_device_id": self.ids.uuid,
            "use_auto_login_interstitial": true,
            "disable_recursive_auto_login_interstitial": true,
            "auto_login_interstitial_experiment_group_name": "",
            "is_from_logged_in_switcher": false,
            "switcher_logged_in_uid": "",
            "account_list": [],
            "blocked_uid": [],
            "INTERNAL_INFRA_THEME": "THREE_NEUTRAL_GRAY",
            "layered_homepage_experiment_group": HOMEPAGE_EXPERIMENT_GROUP,
            "launched_url": "",
            "sim_phone_numbers": [],
            "is_from_registration_reminder": false,
        })
    }

    /// `oauth.token.fetch.async`, once the homepage gave an `aac`.
    pub(super) fn token_fetch(&self, aac: &str) -> Value {
        json!({
            "client_input_params": {
                "username_input": self.creds.username,
                "si_device_param_network_info": self.network_info,
                "aac": aac,
                "lois_settings": {"lois_token": ""},
                "cloud_trust_token": null,
                "zero_balance_state": "",
                "network_bssid": null,
            },
            "server_params": {
                "is_from_logged_out": 0,
                "layered_homepage_experiment_group": HOMEPAGE_EXPERIMENT_GROUP,
                "device_id": self.ids.android_device_id,
                "login_surface": "login_home",
                "waterfall_id": self.waterfall,
                "INTERNAL__latency_qpl_instance_id": now_ms(),
                "is_platform_login": 0,
                "login_entry_point": "logged_out",
                "INTERNAL__latency_qpl_marker_id": 36707139,
                "family_device_id": self.ids.phone_id,
                "offline_experiment_group": OFFLINE_EXPERIMENT_GROUP,
                "access_flow_version": "pre_mt_behavior",
                "is_from_logged_in_switcher": 0,
                "qe_device_id": self.ids.uuid,
            },
        })
    }

    /// `send_login_request`: the encrypted password and the device, with text-input ids of
    /// four hex digits then `ig`, as instagrapi writes them (#2725).
    pub(super) fn send_login(
        &self,
        aac: &str,
        enc_password: &str,
        machine_id: Option<&str>,
    ) -> Value {
        let input_id = format!("{}ig", &uuid::Uuid::new_v4().simple().to_string()[..4]);
        json!({
            "client_input_params": {
                "blocked_uids": [],
                "aac": aac,
                "sim_phones": [],
                "aymh_accounts": [],
                "network_bssid": null,
                "secure_family_device_id": "",
                "has_granted_read_contacts_permissions": 0,
                "auth_secure_device_id": "",
                "has_whatsapp_installed": 0,
                "si_device_param_network_info": self.network_info,
                "password": enc_password,
                "sso_token_map_json_string": "",
                "block_store_machine_id": "",
                "ig_vetted_device_nonces": null,
                "cloud_trust_token": null,
                "event_flow": "login_manual",
                "password_contains_non_ascii": if self.creds.password.is_ascii() { "false" } else { "true" },
                "client_known_key_hash": "",
                "sso_accounts_auth_data": [],
                "encrypted_msisdn": "",
                "has_granted_read_phone_permissions": 0,
                "app_manager_id": "",
                "should_show_nested_nta_from_aymh": 0,
                "device_id": self.ids.android_device_id,
                "zero_balance_state": "",
                "login_attempt_count": 1,
                "machine_id": machine_id,
                "flash_call_permission_status": {
                    "READ_PHONE_STATE": "DENIED",
                    "READ_CALL_LOG": "DENIED",
                    "ANSWER_PHONE_CALLS": "DENIED",
                },
                "accounts_list": [],
                "gms_incoming_call_retriever_eligibility": "eligible",
                "family_device_id": self.ids.phone_id,
                "fb_ig_device_id": [],
                "device_emails": [],
                "try_num": 1,
                "lois_settings": {"lois_token": ""},
                "event_step": "home_page",
                "headers_infra_flow_id": "",
                "openid_tokens": {},
                "contact_point": self.creds.username,
            },
            "server_params": {
                "should_trigger_override_login_2fa_action": 0,
                "is_from_logged_out": 0,
                "should_trigger_override_login_success_action": 0,
                "login_credential_type": "none",
                "server_login_source": "login",
                "waterfall_id": self.waterfall,
                "two_step_login_type": "one_step_login",
                "login_source": "Login",
                "is_platform_login": 0,
                "login_entry_point": "logged_out",
                "INTERNAL__latency_qpl_marker_id": 36707139,
                "is_from_aymh": 0,
                "offline_experiment_group": OFFLINE_EXPERIMENT_GROUP,
                "is_from_landing_page": 0,
                "left_nav_button_action": "NONE",
                "password_text_input_id": format!("{input_id}:82"),
                "is_from_empty_password": 0,
                "is_from_msplit_fallback": 0,
                "ar_event_source": "login_home_page",
                "qe_device_id": self.ids.uuid,
                "username_text_input_id": format!("{input_id}:81"),
                "layered_homepage_experiment_group": HOMEPAGE_EXPERIMENT_GROUP,
                "device_id": self.ids.android_device_id,
                "login_surface": "login_home",
                "INTERNAL__latency_qpl_instance_id": now_ms(),
                "reg_flow_source": "login_home_native_integration_point",
                "is_caa_perf_enabled": 1,
                "credential_type": "password",
                "is_from_password_entry_page": 0,
                "caller": "gslr",
                "family_device_id": self.ids.phone_id,
                "is_from_assistive_id": 0,
                "access_flow_version": "pre_mt_behavior",
                "is_from_logged_in_switcher": 0,
            },
        })
    }
}

/// The network description instagrapi 3.2.2 sends (`_caa_device_network_info`): one SIM of
/// T-Mobile US on Wi-Fi, the same for every client. icf sends [`network_info`] with the
/// carrier of the account's proxy country instead; this is its fallback.
pub fn device_network_info() -> Value {
    network_info("310260", "T-Mobile")
}

/// instagrapi's network description with another carrier: `sim_operator` is the SIM's
/// MCC+MNC (`"26201"`), `operator_name` the carrier's display name. The shape, key order
/// and JSON types are instagrapi's; only the carrier differs.
pub fn network_info(sim_operator: &str, operator_name: &str) -> Value {
    json!({
        "active_subscriptions_info": null,
        "default_subscription_info": {
            "network_type": null,
            "is_data_roaming": 1,
            "is_esim": null,
            "is_gsm_roaming": 0,
            "is_sim_sms_capable": null,
            "is_mobile_data_enabled": 1,
            "sim_carrier_id": 1,
            "sim_carrier_id_name": null,
            "sim_state": 5,
            "sim_operator": sim_operator,
            "sim_operator_name": operator_name,
            "signal_strength": null,
            "group_id_level_1": null,
            "network_operator": sim_operator,
        },
        "is_airplane_mode": 0,
        "is_active_network_cellular": 0,
        "is_device_sms_capable": 1,
        "sim_count": 1,
        "is_wifi": 1,
    })
}
