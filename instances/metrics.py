"""Instance gauges read at scrape time (registered in `InstancesConfig.ready()`): at most 1,000 numbers."""

from prometheus_client.core import GaugeMetricFamily

from instances.models import WhatsAppInstance

LIMIT = 1000


def collect():
    health = GaugeMetricFamily(
        "whatsflow_instance_health", "Health score (0-100) of each WhatsApp instance.", labels=["instance", "provider"]
    )
    state = GaugeMetricFamily(
        "whatsflow_instance_connection_state",
        "1 for the connection state each WhatsApp instance is in, 0 for the others.",
        labels=["instance", "provider", "state"],
    )
    qr = GaugeMetricFamily(
        "whatsflow_instance_needs_qr_login",
        "1 when the number was logged out and needs a new QR login.",
        labels=["instance"],
    )
    rows = WhatsAppInstance.objects.filter(status=WhatsAppInstance.Status.ACTIVE).order_by("id")
    for row in rows.values("id", "provider", "health_score", "connection_state", "needs_qr_login")[:LIMIT]:
        instance = str(row["id"])
        health.add_metric([instance, row["provider"]], row["health_score"])
        for value in WhatsAppInstance.ConnectionState.values:
            state.add_metric([instance, row["provider"], value], 1 if row["connection_state"] == value else 0)
        qr.add_metric([instance], 1 if row["needs_qr_login"] else 0)
    yield health
    yield state
    yield qr
