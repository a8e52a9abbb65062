"""Capture benchmark on simnet: captures per second of pages with 20 images each, and the
memory a 1 GB response costs when it is cut at the media limit.

    .venv/bin/python bench/capture_bench.py [--pages 30] [--images 20]

Uses SQLite under var/bench (a fresh database each run) and the real capture code; every
byte comes from the simulated internet on loopback. Bounded: a fixed number of pages.
"""

import argparse
import ipaddress
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

from openhotline.core.secret_values import fresh_environment

ROOT = Path(__file__).resolve().parent.parent


def configure() -> None:
    var = ROOT / "var" / "bench-capture"
    if var.exists():
        for path in sorted(var.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    var.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        OPENHOTLINE_VAR_DIR=str(var),
        **fresh_environment(),
        DJANGO_SETTINGS_MODULE="openhotline.settings",
    )
    os.environ.pop("DATABASE_URL", None)


def _names(page: int, count: int) -> tuple[str, ...]:
    return tuple(f"p{page}-i{i}.{'jpg' if i % 2 else 'png'}" for i in range(count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--images", type=int, default=20)
    args = parser.parse_args()
    configure()
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from openhotline.cases.models import Case
    from openhotline.evidence.capture import run_capture
    from openhotline.evidence.models import CaptureItem, CaptureState
    from openhotline.evidence.net.fetcher import SafeFetcher
    from openhotline.intake.models import Channel
    from openhotline.intake.services import accept_report
    from openhotline.intake.validation import check_report
    from openhotline.simnet.atlas import default_world
    from openhotline.simnet.runner import Simnet
    from openhotline.simnet.world import SimHost, SimPage, pages

    call_command("migrate", verbosity=0)
    bench_host = SimHost(
        name="bench-gallery.test",
        address="127.77.10.10",
        country="GB",
        description="Pages of 20 generated images each",
        pages=pages(
            *[
                SimPage(f"/p/{p}", f"Page {p}", images=_names(p, args.images))
                for p in range(args.pages)
            ]
        ),
        image_sizes={},
    )
    with Simnet(world=default_world().with_hosts(bench_host)) as net:
        settings.DNS_SERVERS = [(net.dns_address, net.dns_port)]
        settings.FETCH_ALLOW_NETS = [ipaddress.ip_network("127.77.0.0/16")]
        for p in range(args.pages):
            checked = check_report([net.url("bench-gallery.test", f"/p/{p}")], "", "")
            accept_report(checked, channel=Channel.API, portal=None, language="en")
        captures = [case.captures.get().pk for case in Case.objects.order_by("pk")]
        # Generate simnet's images first (it caches them) so we time the platform, not the
        # image generator sharing this process.
        from openhotline.simnet import images

        for name in bench_host.images:
            images.make_image(bench_host.image_seed(name), images.format_for_name(name) or "png",
                              bench_host.image_size(name))  # fmt: skip
        run_capture(captures[0])
        started = time.perf_counter()
        for capture_id in captures[1:]:
            run_capture(capture_id)
        elapsed = time.perf_counter() - started
        done = len(captures) - 1
        stored = CaptureItem.objects.filter(capture_id__in=captures[1:], media__isnull=False)
        states = set(Case.objects.values_list("captures__state", flat=True))
        print(f"\nCaptures on simnet: {done} pages x {args.images} images, one worker process")
        print(f"  {done / elapsed:.1f} captures/s, {stored.count() / elapsed:.0f} media/s "
              f"({elapsed:.2f} s; states: {sorted(states)}; "
              f"{stored.count()} media items stored)")  # fmt: skip
        assert states == {CaptureState.DONE}

        limit = settings.FETCH_MAX_MEDIA_BYTES
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tracemalloc.start()
        t0 = time.perf_counter()
        result = SafeFetcher().fetch(
            net.url("hostile.test", f"/huge?bytes={1024**3}"), max_bytes=limit
        )
        cut_after = time.perf_counter() - t0
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\nA 1 GiB response with a {limit / 2**20:.0f} MiB media limit:")
        print(f"  truncated={result.truncated} after {len(result.body) / 2**20:.0f} MiB "
              f"in {cut_after:.2f} s; Python heap peak {peak / 2**20:.0f} MiB; "
              f"process peak RSS {rss_before:.0f} -> {rss_after:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
