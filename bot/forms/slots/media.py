"""LINE location messages and images (the shell downloads and stores the image first)."""

from __future__ import annotations

from typing import Any, ClassVar

from bot.forms.slots.base import Answer, Ctx, Invalid, Ok, Outcome, QuickAction, SlotType

# A generous box around 川崎市 (麻生区 in the north-west to 川崎区's coast); a location outside it
# is certainly not in the city. Addresses LINE attaches are checked too when present.
KAWASAKI_BOUNDS = {"south": 35.46, "north": 35.65, "west": 139.45, "east": 139.82}


class LocationType(SlotType):
    name = "location"
    accepts = frozenset({"location", "text"})
    options: ClassVar[frozenset[str]] = frozenset({"within", "allow_text"})

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        if answer.kind == "location" and answer.location is not None:
            loc = answer.location
            address = loc.address or ""
            if slot.get("within") == "kawasaki":
                b = KAWASAKI_BOUNDS
                inside = b["south"] <= loc.latitude <= b["north"] and b["west"] <= loc.longitude <= b["east"]
                if not inside or (address and "川崎市" not in address and "市" in address):
                    return Invalid("outside", "送られた場所は川崎市の外のようです。川崎市内の場所を送ってください。")
            value = {"latitude": loc.latitude, "longitude": loc.longitude, "address": address, "title": loc.title or ""}
            return Ok(value, ack=f"場所を受け取りました：{address or self.display(slot, value)}")
        if answer.kind == "text" and answer.text and slot.get("allow_text"):
            text = answer.text.strip()
            if len(text) < 4:
                return Invalid("too_short", "場所がわかるように、住所や目印をもう少しくわしく入力してください。")
            return Ok({"text": text[:200]})
        if answer.kind == "text":
            return Invalid("not_location", "下の「位置情報を送る」ボタンから、地図で場所を送ってください。")
        return self.wrong_kind(answer.kind)

    def display(self, slot: dict[str, Any], value: Any) -> str:
        if not value:
            return ""
        if "text" in value:
            return str(value["text"])
        coords = f"緯度{value['latitude']:.5f} 経度{value['longitude']:.5f}"
        return f"{value['address']}（{coords}）" if value.get("address") else coords

    def quick_actions(self, slot: dict[str, Any], ctx: Ctx) -> list[QuickAction]:
        return [{"kind": "location", "label": "位置情報を送る"}]

    def example(self, slot: dict[str, Any]) -> str:
        return str(slot.get("example") or ("地図で送る、または「〇〇町1-2 △△公園の入口」" if slot.get("allow_text")
                                          else "「位置情報を送る」ボタンで地図から選ぶ"))

    def wrong_kind(self, kind: str) -> Invalid:
        return Invalid("wrong_kind", "下の「位置情報を送る」ボタンから、場所を送ってください。")


class ImageType(SlotType):
    name = "image"
    accepts = frozenset({"image"})
    default_example = "「カメラ」または「写真を選ぶ」ボタンで送る"

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        if answer.kind != "image":
            return Invalid("not_image", "写真（画像）を送ってください。下のボタンから撮影・選択できます。")
        if not answer.content_ref:
            return Invalid("not_stored", "画像を受け取れませんでした。お手数ですが、もう一度送ってください。")
        return Ok({"content_ref": answer.content_ref, "message_id": answer.message_id}, ack="写真を受け取りました。")

    def display(self, slot: dict[str, Any], value: Any) -> str:
        return "写真1枚" if value else ""

    def quick_actions(self, slot: dict[str, Any], ctx: Ctx) -> list[QuickAction]:
        return [{"kind": "camera", "label": "カメラ"}, {"kind": "cameraRoll", "label": "写真を選ぶ"}]
