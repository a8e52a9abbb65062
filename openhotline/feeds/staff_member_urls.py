from django.urls import path

from openhotline.feeds import staff_members

app_name = "member_admin"
urlpatterns = [
    path("members/", staff_members.members, name="members"),
    path("members/<int:org_id>/", staff_members.member, name="member"),
    path("members/<int:org_id>/licences/", staff_members.licence, name="licence"),
    path(
        "members/<int:org_id>/licences/<str:feed>/end/",
        staff_members.licence_end,
        name="licence_end",
    ),
    path("members/<int:org_id>/membership/", staff_members.membership, name="membership"),
    path("members/<int:org_id>/users/", staff_members.add_user, name="add_user"),
    path("members/<int:org_id>/keys/<str:key_id>/revoke/", staff_members.revoke_key, name="revoke"),
]
