"""Demo chatbot for `make run`: a default flow with a menu, keyword subflows and a file request.

Safe to run again: an existing demo template is left as it is.
"""

from django.db import transaction

from flows.models import Flow, FlowMessage, FlowTemplate, Subflow

DEMO_TEMPLATE_NAME = "Atendimento (demo)"


@transaction.atomic
def seed(organization) -> None:
    template, created = FlowTemplate.objects.get_or_create(
        organization=organization,
        name=DEMO_TEMPLATE_NAME,
        defaults={"description": "Chatbot de exemplo: saudação, menu, preços, atendente e envio de documento."},
    )
    if not created:
        return
    flow = Flow.objects.create(template=template, name="Boas-vindas", is_default=True)
    menu = Subflow.objects.create(flow=flow, name="Menu", order_index=0)
    _messages(
        menu,
        {
            "text": "Olá {{name}}! 👋 Bem-vindo(a) à Loja Exemplo.",
            "variations": ["Oi {{name}}! Que bom ter você aqui na Loja Exemplo.", "Olá, {{name}}! Tudo bem?"],
        },
        {
            "text": "Como posso ajudar? Responda com uma palavra:\n• *preço* — tabela de preços\n"
            "• *atendente* — falar com uma pessoa\n• *documento* — enviar seu comprovante",
            "wait_for_response": True,
            "variable_name": "menu_choice",
        },
        {"text": "Não encontrei “{{menu_choice}}” no menu. Escreva de novo quando quiser!"},
    )
    prices = Subflow.objects.create(
        flow=flow, parent=menu, name="Preços", order_index=1, trigger_keywords=["preço", "valor", "quanto custa"]
    )
    _messages(
        prices,
        {"text": "Camisetas a partir de R$ 49,90 e bermudas a partir de R$ 79,90."},
        {"text": "Posso ajudar em algo mais? Escreva *atendente* para falar com a equipe.", "delay_seconds": 5},
    )
    agent = Subflow.objects.create(
        flow=flow, parent=menu, name="Atendente", order_index=2, trigger_keywords=["atendente", "humano"]
    )
    _messages(agent, {"text": "Certo! Um atendente vai falar com você em instantes."})
    document = Subflow.objects.create(
        flow=flow, parent=menu, name="Documento", order_index=3, trigger_keywords=["documento", "comprovante"]
    )
    _messages(
        document,
        {
            "text": "Envie o comprovante em PDF ou foto (JPG/PNG).",
            "wait_for_file": True,
            "expected_file_types": ["pdf", "jpg", "jpeg", "png"],
            "reprompt_text": "Ainda aguardo o arquivo do comprovante (PDF, JPG ou PNG).",
            "variable_name": "comprovante",
        },
        {"text": "Recebido, obrigado! Vamos conferir e retornamos em breve."},
    )


def _messages(subflow: Subflow, *specs: dict) -> None:
    for index, spec in enumerate(specs):
        message = FlowMessage(subflow=subflow, order_index=index, **spec)
        message.full_clean()
        message.save()
