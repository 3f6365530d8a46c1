from django.test import TestCase

from matches import services


class HomePageTests(TestCase):
    def test_the_home_page_lists_open_matches_and_the_titles(self):
        match = services.match_create(title="snake")
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, match.public_id)
        self.assertContains(response, "Snake")
