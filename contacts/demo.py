"""Demo contacts for `make run`: 20 people with tags and custom fields. Safe to run again."""

import unicodedata

from contacts.services import contact_get_or_create

_PEOPLE = [
    ("Ana Souza", "11", "vip", "São Paulo"),
    ("Bruno Lima", "21", "cliente", "Rio de Janeiro"),
    ("Carla Dias", "31", "cliente", "Belo Horizonte"),
    ("Diego Alves", "41", "lead", "Curitiba"),
    ("Eduarda Rocha", "51", "vip", "Porto Alegre"),
    ("Felipe Costa", "61", "lead", "Brasília"),
    ("Gabriela Melo", "71", "cliente", "Salvador"),
    ("Heitor Ramos", "81", "lead", "Recife"),
    ("Isabela Nunes", "85", "vip", "Fortaleza"),
    ("João Pereira", "92", "cliente", "Manaus"),
    ("Karina Teixeira", "19", "lead", "Campinas"),
    ("Lucas Martins", "48", "cliente", "Florianópolis"),
    ("Mariana Gomes", "62", "vip", "Goiânia"),
    ("Nicolas Barros", "27", "lead", "Vitória"),
    ("Olívia Cardoso", "91", "cliente", "Belém"),
    ("Pedro Henrique", "84", "lead", "Natal"),
    ("Quésia Farias", "83", "cliente", "João Pessoa"),
    ("Rafael Moreira", "65", "vip", "Cuiabá"),
    ("Sofia Ribeiro", "98", "cliente", "São Luís"),
    ("Tiago Azevedo", "47", "lead", "Joinville"),
]


def seed(organization) -> None:
    for index, (name, ddd, tag, city) in enumerate(_PEOPLE):
        first = unicodedata.normalize("NFKD", name.split()[0].lower()).encode("ascii", "ignore").decode()
        contact_get_or_create(
            organization=organization,
            phone=f"+55{ddd}9{index + 1:04d}{index + 1:04d}",
            name=name,
            email=f"{first}@example.com",
            custom_fields={"cidade": city, "pontos": 100 + index * 15, "desconto": f"{5 + index % 4 * 5}%"},
            tags=[tag, "demo"],
        )
