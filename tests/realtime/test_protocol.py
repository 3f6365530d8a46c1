from django.test import SimpleTestCase

from realtime import protocol


class StateTickTests(SimpleTestCase):
    def test_the_tick_of_an_encoded_state_is_read_off_its_head(self):
        text = protocol.state(tick=12345, snapshot={"tick": 7, "ball": {"x": 1}}, paused=[1])
        self.assertEqual(protocol.state_tick(text), 12345)

    def test_a_text_without_a_tick_has_none(self):
        for text in ("after", "{}", '{"tick":}', '{"type":"over"}'):
            self.assertIsNone(protocol.state_tick(text), text)
