from django.test import SimpleTestCase

from realtime.ops.control import staff_result


class StaffResultTests(SimpleTestCase):
    def test_a_finished_game_keeps_the_rules_result(self):
        rules = {"scores": [1, 3], "winner": 1, "finished": True, "summary": "1-3"}
        self.assertEqual(staff_result(rules), rules)

    def test_an_unfinished_game_goes_to_the_sole_leader_on_score(self):
        rules = {"scores": [3, 1], "winner": None, "finished": False, "summary": "3-1"}
        result = staff_result(rules)
        self.assertEqual(result["winner"], 0)
        self.assertEqual(result["summary"], "3-1 (ended by staff)")
        self.assertEqual(result["scores"], [3, 1])

    def test_an_unfinished_game_with_tied_leaders_is_a_draw(self):
        rules = {"scores": [2, 5, 5], "winner": None, "finished": False, "summary": ""}
        self.assertIsNone(staff_result(rules)["winner"])
