import json

from django.core.management.base import BaseCommand, CommandError

from flows.models import FlowTemplate
from flows.transfer import export_template


class Command(BaseCommand):
    help = "Write a flow template (its flows, subflows and messages) as JSON, to a file or stdout."

    def add_arguments(self, parser):
        parser.add_argument("template_id", type=int)
        parser.add_argument("--output", "-o", help="File to write (default: stdout)")

    def handle(self, *args, template_id, output=None, **options):
        template = FlowTemplate.objects.filter(id=template_id).first()
        if template is None:
            raise CommandError(f"Flow template {template_id} does not exist.")
        text = json.dumps(export_template(template), ensure_ascii=False, indent=2) + "\n"
        if output:
            with open(output, "w", encoding="utf-8") as file:
                file.write(text)
            self.stderr.write(f"Template {template_id} written to {output}.")
        else:
            self.stdout.write(text, ending="")
