import gc

from celery.signals import worker_process_init, worker_ready
from django.test import SimpleTestCase

from config.celery import freeze_startup_heap


class StartupHeapTests(SimpleTestCase):
    def tearDown(self):
        gc.unfreeze()

    def test_workers_freeze_their_startup_heap_when_ready_in_either_pool(self):
        for signal in (worker_ready, worker_process_init):
            receivers = [ref() for _, ref in signal.receivers]
            self.assertIn(freeze_startup_heap, receivers, signal.name)

    def test_frozen_objects_are_left_out_of_full_collections(self):
        gc.unfreeze()
        before = gc.get_freeze_count()
        freeze_startup_heap()
        self.assertGreater(gc.get_freeze_count(), before + 1000)
