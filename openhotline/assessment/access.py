"""Who may do what in assessment. One door per kind of work."""

from openhotline.accounts.access import role_required
from openhotline.accounts.models import Role

# Police liaisons and administrators are staff but do not grade.
ASSESSORS = frozenset({Role.ANALYST, Role.QA_REVIEWER, Role.MANAGER})
REVIEWERS = frozenset({Role.QA_REVIEWER, Role.MANAGER})
MANAGERS = frozenset({Role.MANAGER})

assessors_only = role_required(ASSESSORS, refusal="assessment.refused", who="Analysts")
reviewers_only = role_required(REVIEWERS, refusal="assessment.refused", who="QA reviewers")
managers_only = role_required(MANAGERS, refusal="assessment.refused", who="Hotline managers")
