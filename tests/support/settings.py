"""The WhatsApp secrets every test app runs with (the fake Graph API signs with the same ones)."""

from __future__ import annotations

TEST_SECRETS = {
    "whatsapp_app_secret": "test-app-secret",
    "whatsapp_verify_token": "test-verify-token",
    "whatsapp_access_token": "test-access-token",
    "whatsapp_phone_number_id": "100200300",
}
