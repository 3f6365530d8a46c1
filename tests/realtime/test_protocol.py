from django.test import SimpleTestCase

from realtime import protocol


class StateTickTests(SimpleTestCase):
    def test_the_tick_of_an_encoded_state_is_read_off_its_head(self):
        text = protocol.state(tick=12345, snapshot={"tick": 7, "ball": {"x": 1}}, paused=[1])
        self.assertEqual(protocol.state_tick(text), 12345)

    def test_a_text_without_a_tick_has_none(self):
        for text in ("after", "{}", '{"tick":}', '{"type":"over"}'):
            self.assertIsNone(protocol.state_tick(text), text)


class DumpsTests(SimpleTestCase):
    def test_values_are_compact_json_text(self):
        self.assertEqual(protocol.dumps({"a": [1, 2.5, None], "b": "é"}),
                         '{"a":[1,2.5,null],"b":"é"}')  # fmt: skip

    def test_integer_keys_become_strings_however_deep(self):
        self.assertEqual(protocol.dumps({0: 1.5, "x": {3: [True]}}), '{"0":1.5,"x":{"3":[true]}}')

    def test_a_value_json_cannot_hold_still_raises(self):
        with self.assertRaises(TypeError):
            protocol.dumps({"a": object()})
        with self.assertRaises(TypeError):
            protocol.dumps({1: object()})
