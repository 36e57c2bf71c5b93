"""At most one cycle per job: the claim is exclusive, expires, and a dead local owner is replaced at once."""

import subprocess
import sys
from datetime import timedelta

from django.utils import timezone

from provisioning.engine import lock
from provisioning.models import ProvisioningJob


def test_a_second_claim_is_refused_while_the_first_is_live(application):
    job = application.job
    assert lock.claim(job.pk, lock.worker_identity())
    assert not lock.claim(job.pk, lock.worker_identity())


def test_released_claim_can_be_taken_again(application):
    job = application.job
    owner = lock.worker_identity()
    assert lock.claim(job.pk, owner)
    lock.release(job.pk, owner)
    assert lock.claim(job.pk, lock.worker_identity())


def test_expired_claim_is_taken_over_and_the_old_owner_loses_its_heartbeat(application):
    job = application.job
    old = "other-host:123:abc"
    ProvisioningJob.objects.filter(pk=job.pk).update(
        lock_owner=old, lock_expires_at=timezone.now() - timedelta(seconds=1)
    )
    new = lock.worker_identity()
    assert lock.claim(job.pk, new)
    assert not lock.heartbeat(job.pk, old)
    assert lock.heartbeat(job.pk, new)


def test_claim_of_a_dead_process_on_this_host_is_taken_over_before_it_expires(application):
    job = application.job
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    import socket

    dead = f"{socket.gethostname()}:{dead_pid}:dead"
    ProvisioningJob.objects.filter(pk=job.pk).update(
        lock_owner=dead, lock_expires_at=timezone.now() + timedelta(hours=1)
    )
    assert lock.claim(job.pk, lock.worker_identity())


def test_claim_of_a_live_process_on_another_host_is_respected_until_it_expires(application):
    job = application.job
    ProvisioningJob.objects.filter(pk=job.pk).update(
        lock_owner="elsewhere:1:x", lock_expires_at=timezone.now() + timedelta(minutes=5)
    )
    assert not lock.claim(job.pk, lock.worker_identity())
