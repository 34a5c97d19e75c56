"""The worst uploads through a running server's real upload protocol: our message on the page, bounded RSS."""

from __future__ import annotations

import pytest

from tests.load_client import StreamlitServer, StreamlitSession, hostile_uploads

EXPECTED = {  # file name → what the sidebar's message must say (None: accepted, loads with a success flash)
    "huge.safetensors": "parameters, over the limit",
    "nested.safetensors": "not valid JSON",
    "over.npz": "pixels in all",
    "heavy.npz": None,
    "pngs.zip": None,
    "bomb.zip": "zip bomb",
}


@pytest.mark.slow
def test_hostile_uploads_show_our_message_and_keep_the_server_small(tmp_path):
    uploads = hostile_uploads()
    assert sorted(name for _, name, _ in uploads) == sorted(EXPECTED)
    with StreamlitServer(log_path=tmp_path / "server.log") as server:
        session = StreamlitSession(server.url).connect()
        try:
            assert session.open_page("sample").ok
            peak = server.rss()
            for key, name, payload in uploads:
                result = session.upload(key, name, payload)
                peak = max(peak, server.rss())
                assert result.exceptions == [], (name, result.exceptions)  # never a redacted crash
                messages = [alert for alert in result.error_alerts if name in alert]
                if EXPECTED[name] is None:
                    assert messages == [], (name, messages)
                else:
                    assert messages and EXPECTED[name] in messages[-1], (name, result.error_alerts)
            assert peak < 1.5 * 2**30, f"server RSS peaked at {peak / 2**20:.0f} MiB"
        finally:
            session.close()
