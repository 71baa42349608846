from django.urls import re_path

from accounts.views import me

# With and without the trailing slash, like every other route (README "API basics").
urlpatterns = [re_path(r"^me/?$", me, name="me")]
