"""Background steps of assessment: thin wrappers that take ids."""

from django.tasks import task

from openhotline.assessment.followups import confirm_grades


@task(queue_name="default")
def confirm_grades_task(decision_id: int) -> str:
    return confirm_grades(decision_id)
