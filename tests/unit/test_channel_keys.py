"""Intake's memory of channel keys: a found key is looked up once per few seconds, an unknown one every
time, and a rotation forgets them all."""

from __future__ import annotations

from services.intake.channel_keys import ChannelKeys


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Channels:
    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys
        self.lookups: list[str] = []

    async def __call__(self, api_key: str) -> str | None:
        self.lookups.append(api_key)
        return self.keys.get(api_key)


async def test_a_found_key_is_remembered_for_a_few_seconds() -> None:
    clock, channels = Clock(), Channels({"dsk_a": "shop-a"})
    keys = ChannelKeys(channels, seconds=5, clock=clock)
    assert [await keys.channel_for("dsk_a") for _ in range(3)] == ["shop-a"] * 3
    assert channels.lookups == ["dsk_a"]
    clock.now += 5.1
    channels.keys["dsk_a"] = "shop-b"  # another instance rotated it meanwhile: seen once remembered no more
    assert await keys.channel_for("dsk_a") == "shop-b"
    assert channels.lookups == ["dsk_a", "dsk_a"]


async def test_an_unknown_key_is_looked_up_every_time() -> None:
    channels = Channels({})
    keys = ChannelKeys(channels, clock=Clock())
    assert [await keys.channel_for("dsk_nope") for _ in range(2)] == [None, None]
    assert channels.lookups == ["dsk_nope", "dsk_nope"]


async def test_a_rotation_forgets_every_key() -> None:
    channels = Channels({"dsk_a": "shop-a"})
    keys = ChannelKeys(channels, clock=Clock())
    await keys.channel_for("dsk_a")
    del channels.keys["dsk_a"]
    keys.forget()
    assert await keys.channel_for("dsk_a") is None
