"""Roles were global Django groups and the coalitions a list on the profile; they become seats.

Each user gets a seat in every coalition their profile listed, with their strongest role group
(secretariat > member editor > steering > partner: a user who was in two groups kept the stronger
rights everywhere, and still does). A member editor's seat names the profile's member; a member
editor without a member could only read, which is what a steering seat gives. The four role groups
are then deleted: nothing reads them any more. Backwards, seats become groups and profile
coalitions again (a user with different roles in different coalitions gets all their groups).
"""

from django.db import migrations

ROLES = ("secretariat", "member-editor", "steering", "partner")


def groups_to_seats(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Profile = apps.get_model("coalition", "Profile")
    Seat = apps.get_model("coalition", "Seat")
    seats = []
    profiles = Profile.objects.select_related("user").prefetch_related("coalitions", "user__groups")
    for profile in profiles:
        names = {group.name for group in profile.user.groups.all()}
        role = next((name for name in ROLES if name in names), None)
        if role is None:
            continue
        member_id = None
        if role == "member-editor":
            member_id = profile.member_id
            if member_id is None:
                role = "steering"
        for coalition in profile.coalitions.all():
            seats.append(Seat(user_id=profile.user_id, coalition_id=coalition.pk, role=role, member_id=member_id))
    Seat.objects.bulk_create(seats, ignore_conflicts=True)
    Group.objects.filter(name__in=ROLES).delete()


def seats_to_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Profile = apps.get_model("coalition", "Profile")
    Seat = apps.get_model("coalition", "Seat")
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
    for seat in Seat.objects.all():
        profile, _created = Profile.objects.get_or_create(user_id=seat.user_id)
        profile.coalitions.add(seat.coalition_id)
        if seat.member_id is not None:
            profile.member_id = seat.member_id
            profile.save(update_fields=["member"])
        groups[seat.role].user_set.add(seat.user_id)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("coalition", "0002_seat"),
    ]

    operations = [migrations.RunPython(groups_to_seats, seats_to_groups)]
