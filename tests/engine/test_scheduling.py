"""The job's django-q2 schedule exists exactly while provisioning is On, once, with the job's interval."""

from django_q.models import Schedule

from provisioning.models import CycleTrigger, ProvisioningCycle
from provisioning.scheduling import apply_schedule


def test_turning_on_creates_one_schedule_due_now_and_off_removes_it(application):
    job = application.job
    job.enabled = True
    job.interval_minutes = 40
    apply_schedule(job)
    apply_schedule(job)
    rows = Schedule.objects.filter(name=f"provisioning-cycle-{job.pk}")
    assert rows.count() == 1
    schedule = rows.get()
    assert schedule.func == "provisioning.tasks.run_scheduled_cycle"
    assert schedule.minutes == 40 and schedule.repeats == -1
    assert schedule.args == f"({job.pk},)"

    job.enabled = False
    apply_schedule(job)
    assert not Schedule.objects.filter(name=f"provisioning-cycle-{job.pk}").exists()


def test_changing_the_interval_keeps_the_next_run(application):
    job = application.job
    job.enabled = True
    schedule = apply_schedule(job)
    next_run = schedule.next_run
    job.interval_minutes = 15
    schedule = apply_schedule(job)
    assert schedule.minutes == 15
    assert schedule.next_run == next_run


def test_turning_on_runs_the_first_cycle_at_once_and_the_next_one_an_interval_later(
    application, django_capture_on_commit_callbacks
):
    job = application.job
    job.enabled = True
    job.interval_minutes = 40
    with django_capture_on_commit_callbacks(execute=True) as queued:
        schedule = apply_schedule(job)
        apply_schedule(job)  # saving again while On queues nothing more
    assert len(queued) == 1
    assert ProvisioningCycle.objects.filter(job=job, trigger=CycleTrigger.SCHEDULE).count() == 1
    minutes_ahead = (schedule.next_run - ProvisioningCycle.objects.get(job=job).created_at).total_seconds() / 60
    assert 39 < minutes_ahead <= 40
