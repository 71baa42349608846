import pytest

from integrations.clients import google
from integrations.errors import IntegrationRejected
from integrations.services.connections import check_integration

pytestmark = pytest.mark.django_db


def test_it_gets_a_token_with_the_signed_service_account_jwt(google_integration, fake_google):
    ok, message = check_integration(integration=google_integration)

    assert ok, message
    assert "bot@whatsflow-test.iam.gserviceaccount.com" in message
    assert fake_google.token_requests == 1


def test_a_wrong_key_is_refused_by_the_token_endpoint(google_integration, fake_google):
    from tests.support.fakes.partners import service_account_key

    _info, other_public_key = service_account_key()
    fake_google.public_key = other_public_key

    ok, message = check_integration(integration=google_integration)

    assert not ok and "Invalid JWT Signature" in message


def test_it_appends_a_row_and_looks_one_up(google_integration, fake_google):
    fake_google.sheets["sheet-1"] = [["pedido", "status", "previsao"], ["A100", "enviado", "12/05"]]

    appended = google.append_row(
        google_integration, spreadsheet_id="sheet-1", sheet="Pedidos!A:C", values=["A200", "separando", "15/05"]
    )
    found = google.lookup_row(
        google_integration, spreadsheet_id="sheet-1", sheet="Pedidos!A:C", column="pedido", value="A200"
    )
    missing = google.lookup_row(
        google_integration, spreadsheet_id="sheet-1", sheet="Pedidos", column="pedido", value="Z9"
    )

    assert appended == {"updated_range": "Pedidos!A3"}
    assert found == {"pedido": "A200", "status": "separando", "previsao": "15/05"}
    assert missing is None
    append = fake_google.requests_to(r":append")[0]
    assert "valueInputOption=USER_ENTERED" in append.path
    # One token for all three calls.
    assert fake_google.token_requests == 1


def test_an_unknown_column_is_a_clear_refusal(google_integration, fake_google):
    fake_google.sheets["sheet-1"] = [["pedido", "status"]]

    with pytest.raises(IntegrationRejected, match="no column 'cpf'"):
        google.lookup_row(google_integration, spreadsheet_id="sheet-1", sheet="A:B", column="cpf", value="1")


def test_a_missing_spreadsheet_is_a_final_error(google_integration, fake_google):
    with pytest.raises(IntegrationRejected, match="HTTP 404"):
        google.lookup_row(google_integration, spreadsheet_id="nope", sheet="A:B", column="a", value="1")


def test_it_uploads_a_file_into_a_folder(google_integration, fake_google):
    uploaded = google.upload_file(
        google_integration, folder_id="folder-9", name="nota.pdf", mimetype="application/pdf", content=b"%PDF-1.4 x"
    )

    stored = fake_google.files[uploaded["file_id"]]
    assert stored["name"] == "nota.pdf" and stored["parents"] == ["folder-9"]
    assert stored["content"] == b"%PDF-1.4 x" and stored["mimeType"] == "application/pdf"
    assert uploaded["link"].endswith("/view")


def test_nothing_is_fetched_for_the_api_description(google_integration, fake_google):
    google.append_row(google_integration, spreadsheet_id="s", sheet="A:A", values=["x"])

    assert not [r for r in fake_google.requests if "discovery" in r.path or "$discovery" in r.path]
