"""``manage.py gpe_simulator``: serve the GPE simulator (token endpoint + pacing endpoint) on one machine.

The defaults match the demo's ``hybrid_integration`` transaction (configdb/demo.py): 127.0.0.1:8089,
client id ``pacing-demo``, secret ``demo-client-secret``, token at ``/oauth/token``, service base ``/api/``,
pacing path ``v1/pacing/targets`` (the cluster's pacingEndpoint/targetEndpoint). The protocol is documented
in docs/gpe-protocol.md (OURS: the vendor never published GPE's).
"""

from __future__ import annotations

import logging
import signal

from django.core.management.base import BaseCommand, CommandError

from pacing.simulators.gpe import DEMO_TARGETS, GPESimulator


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Serve a simulator of Genesys Predictive Engagement's pacing API: the OAuth client-credentials token "
        "endpoint and the pacing endpoint, applying the invitations it receives to a simulated contact centre "
        "(hot leads, visitors, agents) and answering the pending invitations per target. Optionally feeds the "
        "stats store with that contact centre's statistics (the demo's Stat Server)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
        parser.add_argument("--port", type=int, default=8089, help="port (default %(default)s; 0 = any free port)")
        parser.add_argument("--client-id", default="pacing-demo", help="OAuth client id (default %(default)s)")
        parser.add_argument("--client-secret", default="demo-client-secret",
                            help="OAuth client secret (default: the demo's)")
        parser.add_argument("--seed", type=int, default=0, help="random seed of the simulated world")
        parser.add_argument("--token-path", default="/oauth/token", help="token endpoint path (default %(default)s)")
        parser.add_argument("--api-base", default="/api/", help="service base path (default %(default)s)")
        parser.add_argument("--target-path", default="v1/pacing/targets",
                            help="pacing path under the base: pacingEndpoint/targetEndpoint (default %(default)s)")
        parser.add_argument("--targets", default=None,
                            help="comma-separated target names created at start (default: the demo's "
                                 f"{', '.join(DEMO_TARGETS)})")
        parser.add_argument("--strict", action="store_true",
                            help="answer unknown_target for targets not listed (default: adopt them)")
        parser.add_argument("--agents", type=int, default=None, help="agents per target (default 4; demo voice 3)")
        parser.add_argument("--aht", type=float, default=None, help="mean handle time, s (default 300)")
        parser.add_argument("--patience", type=float, default=60.0, help="mean visitor patience, s")
        parser.add_argument("--accept-ratio", type=float, default=0.3, help="share of invitations accepted")
        parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second (default 1)")
        parser.add_argument("--token-ttl", type=int, default=3600, help="token lifetime, s (default %(default)s)")
        parser.add_argument("--stats-tenant", default="Environment",
                            help="feed the stats store of this tenant (name, or id) with the world's "
                                 "statistics (default %(default)s)")
        parser.add_argument("--no-stats", action="store_true", help="do not feed the stats store")

    def handle(self, *args, **options):
        verbosity = int(options.get("verbosity", 1))
        logging.getLogger("pacing.simulators.gpe").setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
        if options["port"] < 0 or options["port"] > 65535:
            raise CommandError("--port must be between 0 and 65535")
        world = {"patience_s": options["patience"], "p_accept": options["accept_ratio"]}
        if options["agents"] is not None:
            world["agents"] = options["agents"]
        if options["aht"] is not None:
            world["aht_s"] = options["aht"]
        if options["targets"] is None:
            targets = {name: {**params, **world} for name, params in DEMO_TARGETS.items()}
        else:
            targets = {n.strip(): dict(world) for n in options["targets"].split(",") if n.strip()}
        store = None if options["no_stats"] else self._store(options["stats_tenant"])
        sim = GPESimulator(
            host=options["host"], port=options["port"], client_id=options["client_id"],
            client_secret=options["client_secret"], seed=options["seed"], token_path=options["token_path"],
            api_base=options["api_base"], target_path=options["target_path"], targets=targets,
            strict=options["strict"], defaults=world, token_ttl_s=options["token_ttl"], speed=options["speed"],
            stats_store=store, on_stats_error=self._stats_error_reporter(),
        )
        try:
            sim.bind()
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(
            f"GPE simulator on {sim.base_url}: token {sim.token_url}, pacing {sim.pacing_url}, "
            f"state {sim.base_url}/sim/state; targets: {', '.join(targets) or '(adopted on first post)'}"
            + ("" if store is None else f"; feeding the stats store of {options['stats_tenant']}")))
        signal.signal(signal.SIGTERM, _interrupt)      # `dev.py run` stops it with SIGTERM: exit cleanly
        try:
            sim.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sim.stop()
            self.stdout.write("GPE simulator stopped.")

    def _store(self, tenant: str):
        try:
            from pacing.stats import StatsStore
        except ImportError:
            self.stderr.write("pacing.stats is not available: the simulator will not feed the stats store.")
            return None
        from configdb.models import Tenant

        # Resolved once, by name (or id when all digits): the store is keyed by the id, so a rename while the
        # simulator runs keeps feeding the same tenant.
        lookup = {"pk": int(tenant)} if tenant.isdigit() else {"name": tenant}
        try:
            tenant_id = Tenant.objects.filter(**lookup).values_list("pk", flat=True).first()
        except Exception as exc:  # the database may be unreachable: serve GPE anyway
            self.stderr.write(f"cannot look up tenant {tenant!r} ({exc}); the simulator will not feed the stats "
                              "store.")
            return None
        if tenant_id is None:
            self.stderr.write(f"no tenant {tenant!r}: the simulator will not feed the stats store.")
            return None
        try:
            return StatsStore(tenant_id)
        except Exception as exc:  # Redis may be unreachable: serve GPE anyway
            self.stderr.write(f"stats store unavailable ({exc}); the simulator will not feed it.")
            return None

    def _stats_error_reporter(self):
        last = {"message": None}

        def report(exc: Exception) -> None:
            message = f"stats store: {exc}"
            if message != last["message"]:          # once per distinct error, not every 5 s
                last["message"] = message
                self.stderr.write(message)
        return report
