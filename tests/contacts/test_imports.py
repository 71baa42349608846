import csv

import pytest
from django.core.management import CommandError, call_command

from contacts.models import Contact, Tag
from tests.factories.contacts import ContactFactory


def write(tmp_path, text: str, encoding: str = "utf-8", name: str = "contacts.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(path, *args):
    from io import StringIO

    out = StringIO()
    call_command("import_contacts", str(path), *args, "--no-progress", stdout=out)
    return out.getvalue()


def report_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.fixture(params=[True, False], ids=["copy", "batch"])
def writer(request, monkeypatch):
    """Both writers (COPY merge and batched upserts) must give the same results."""
    from contacts import imports

    original = imports.import_contacts

    def forced(**kwargs):
        kwargs.setdefault("use_copy", request.param)
        return original(**kwargs)

    monkeypatch.setattr("contacts.management.commands.import_contacts.import_contacts", forced)
    return request.param


@pytest.mark.django_db
def test_it_imports_and_reports_bad_rows(tmp_path, org_a, writer):
    path = write(
        tmp_path,
        "phone,name,email,pontos,cidade\n"
        "5511999999999,Ana,ana@example.com,120,Santos\n"
        "12345,Bad,,1,\n"
        "(11) 3333-4444,Bia,,,Rio\n"
        "11 98888-7777,Too,many,columns,here,extra\n",
    )
    report = tmp_path / "report.csv"
    out = run(path, "--org", "alice", "--report", str(report))
    assert "4 rows: 2 created, 0 updated, 2 invalid" in out
    ana = Contact.objects.get(organization=org_a, phone="+5511999999999")
    assert (ana.name, ana.email, ana.custom_fields) == ("Ana", "ana@example.com", {"pontos": "120", "cidade": "Santos"})
    assert Contact.objects.get(phone="+551133334444").custom_fields == {"cidade": "Rio"}
    rows = report_rows(report)
    assert rows[0] == ["row", "column", "reason", "value"]
    assert rows[1][:2] == ["3", "phone"] and "12345" in rows[1][2]
    assert rows[2][:2] == ["5", ""] and "6 columns" in rows[2][2]


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "cp1252"])
def test_it_reads_utf8_bom_and_latin1(tmp_path, org_a, encoding, writer):
    path = write(
        tmp_path,
        "telefone;nome;observação\n11999999999;João Ação;“ótimo”\n".replace("“", '"').replace("”", '"'),
        encoding,
    )
    run(path, "--org", "alice")
    contact = Contact.objects.get(organization=org_a)
    assert contact.name == "João Ação"
    assert contact.custom_fields == {"observação": "ótimo"}


@pytest.mark.django_db
def test_cp1252_only_characters_are_read(tmp_path, org_a):
    path = write(tmp_path, "phone,name\n11999999999,Ação – “Ana” €\n", "cp1252")
    run(path, "--org", "alice")
    assert Contact.objects.get(organization=org_a).name == "Ação – “Ana” €"


@pytest.mark.django_db
def test_an_import_never_clears_an_opt_out_and_merges_fields(tmp_path, org_a, writer):
    contact = ContactFactory(
        organization=org_a, phone="+5511999999999", name="Ana", email="ana@old.com", custom_fields={"a": "1"}
    )
    contact.mark_opted_out(reason="SAIR", source="keyword:SAIR")
    path = write(tmp_path, "phone,name,email,b,opted_out_at\n11999999999,,ana@new.com,2,\n")
    out = run(path, "--org", "alice")
    assert "1 rows: 0 created, 1 updated, 0 invalid" in out
    contact.refresh_from_db()
    assert contact.opted_out_at is not None and contact.opt_out_reason == "SAIR"
    assert (contact.name, contact.email, contact.custom_fields) == ("Ana", "ana@new.com", {"a": "1", "b": "2"})


@pytest.mark.django_db
def test_repeated_phones_in_a_file_take_the_last_non_empty_values(tmp_path, org_a, writer):
    path = write(
        tmp_path,
        "phone,name,email,cidade\n11999999999,Ana,ana@a.com,Santos\n(11) 99999-9999,Ana Maria,,\n5511999999999,,,Rio\n",
    )
    out = run(path, "--org", "alice")
    assert "3 rows: 1 created, 2 updated, 0 invalid (2 repeated" in out
    contact = Contact.objects.get(organization=org_a)
    assert (contact.name, contact.email, contact.custom_fields) == ("Ana Maria", "ana@a.com", {"cidade": "Rio"})


@pytest.mark.django_db
def test_repeated_phones_across_chunks_follow_the_same_rule(tmp_path, org_a, monkeypatch, writer):
    from contacts import upserts

    monkeypatch.setattr(upserts, "COPY_CHUNK_SIZE", 2)
    monkeypatch.setattr(upserts, "BATCH_CHUNK_SIZE", 2)
    path = write(tmp_path, "phone,name,email\n11999999999,Ana,ana@a.com\n11988888888,Bia,\n11999999999,Ana Maria,\n")
    run(path, "--org", "alice")
    contact = Contact.objects.get(organization=org_a, phone="+5511999999999")
    assert (contact.name, contact.email) == ("Ana Maria", "ana@a.com")
    assert Contact.objects.filter(organization=org_a).count() == 2


@pytest.mark.django_db
def test_tag_and_delimiter(tmp_path, org_a, writer):
    existing = ContactFactory(organization=org_a, phone="+5511988887777")
    path = write(tmp_path, "phone|name\n11999999999|Ana\n11988887777|Bia\n")
    run(path, "--org", "alice", "--tag", "lead", "--tag", "2024", "--delimiter", "|")
    tagged = Contact.objects.filter(organization=org_a, tags__name="lead")
    assert set(tagged.values_list("phone", flat=True)) == {"+5511999999999", existing.phone}
    assert Tag.objects.filter(organization=org_a).count() == 2


@pytest.mark.django_db
def test_dry_run_saves_nothing_but_counts(tmp_path, org_a, writer):
    ContactFactory(organization=org_a, phone="+5511988887777")
    path = write(tmp_path, "phone,name\n11999999999,Ana\n11988887777,Bia\nxx,Bad\n")
    out = run(path, "--org", "alice", "--dry-run", "--tag", "t")
    assert "Dry run, nothing saved: 3 rows: 1 created, 1 updated, 1 invalid" in out
    assert Contact.objects.filter(organization=org_a).count() == 1
    assert not Tag.objects.exists()
    assert Contact.objects.get().name != "Bia"


@pytest.mark.django_db
def test_blank_lines_and_quoted_newlines(tmp_path, org_a, writer):
    path = write(tmp_path, 'phone,name,nota\n\n11999999999,"Ana, a primeira","linha 1\nlinha 2"\n\n')
    out = run(path, "--org", "alice")
    assert "1 rows: 1 created" in out
    contact = Contact.objects.get(organization=org_a)
    assert (contact.name, contact.custom_fields) == ("Ana, a primeira", {"nota": "linha 1\nlinha 2"})


@pytest.mark.django_db
def test_it_names_what_is_wrong_with_the_file_or_the_options(tmp_path, org_a):
    with pytest.raises(CommandError, match="phone column"):
        run(write(tmp_path, "name,email\nAna,a@b.com\n"), "--org", "alice")
    with pytest.raises(CommandError, match="No organization"):
        run(write(tmp_path, "phone\n11999999999\n"), "--org", "nope")
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "missing.csv", "--org", "alice")
    with pytest.raises(CommandError, match="appears twice"):
        run(write(tmp_path, "phone,name,Name\n11999999999,a,b\n"), "--org", "alice")
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_a_stray_nul_byte_is_dropped_not_fatal(tmp_path, org_a, writer):
    path = write(tmp_path, "phone,name,cidade\n11999999999,An\x00a,Rio\x00\n11988888888,Bia,\n")
    out = run(path, "--org", "alice")
    assert "2 rows: 2 created, 0 updated, 0 invalid" in out
    ana = Contact.objects.get(organization=org_a, phone="+5511999999999")
    assert (ana.name, ana.custom_fields) == ("Ana", {"cidade": "Rio"})
