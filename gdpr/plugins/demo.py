"""The gdpr demo data (gdpr/demo.py), after the bookings: the register of sub-processors, the
AVV that names them, acceptances, one pending sub-processor change, the records of
processing with the DPO's reviews, data-subject requests in several states, a purged customer
and one whose contract ends in three weeks (gdpr/demo_contract_end.py)."""

from portal.registries import DemoSeeder, demo_seeders


def _seed(organisations: dict) -> None:
    from gdpr.demo import (
        demo_avv_seed,
        demo_pending_change_seed,
        demo_records_seed,
        demo_register_seed,
        demo_requests_seed,
    )

    demo_register_seed()  # first: the AVV names the register in force
    demo_avv_seed(organisations)
    demo_pending_change_seed()
    demo_records_seed(organisations)
    demo_requests_seed(organisations)
    from gdpr.demo_contract_end import demo_contract_end_seed

    demo_contract_end_seed(organisations)


demo_seeders.register(DemoSeeder(key="gdpr", seed=_seed, order=50))
