"""The job's django-q2 schedule exists exactly while provisioning is On, once, with the job's interval."""

from django_q.models import Schedule

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
