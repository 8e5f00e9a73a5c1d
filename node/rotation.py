"""Institution key rotation on the node after a lost laptop (design.md §5: "a new generation
the old key never gets"; the hub side is ``hub/rotation.py``).

``bangban node keys rotate`` (:func:`rotate_keys`) on a remaining laptop of the station
retires the institution's X25519 key(s) and adds a new active generation. The retired
private halves stay in the keychain: cases whose keyrings were wrapped only for them must
still open here (:mod:`node.reading` unlocks with retired keys too). Nothing new is wrapped
for a retired key: new keyrings take the institution's key from the hub's directory, which
after ``hub institution rotate-key`` and the registration of the new key lists only the new
one as active. ``bangban node keys import`` (:func:`import_keys`) brings the new generation
to the station's other laptops that are already enrolled (``node keys export`` on this one).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from node.errors import InvalidInput
from node.keys import save_keychain

if TYPE_CHECKING:
    from node.keys import NodeKeys
    from sync.crypto import Keychain

REMINDER = [
    "新的机构密钥已生成（旧密钥已停用，仍保留以打开旧办件）/ a new institution key was made "
    "(the old one is retired and kept so old cases still open).",
    "1. 到平台登记 / register it at the hub: bangban hub device keys FILE "
    "(FILE = this JSON; after `bangban hub institution rotate-key CODE`).",
    "2. 带到本站其他电脑 / carry it to the station's other laptops: bangban node keys export "
    "--out F here, then `bangban node keys import F` there.",
]


def rotate_keys(path: Path, keys: NodeKeys, passphrase: str) -> dict[str, Any]:
    """Retire the institution's active key(s), add a new active one, save; return what
    ``node init`` prints (the public entries for ``hub device keys``) plus the retired ids."""
    from sync.crypto import EncryptionKeyPair

    chain = keys.keychain
    retired = [h.key_id for h in chain.find("institution", keys.institution)]
    for key_id in retired:
        chain.retire(key_id)
    chain.add("institution", keys.institution, EncryptionKeyPair.generate())
    save_keychain(path, chain, passphrase)
    return {"ok": True, **keys.public_entries(), "retired": retired, "next": REMINDER}


def import_keys(path: Path, keys: NodeKeys, passphrase: str, carried: Keychain) -> dict[str, Any]:
    """Merge the institution keys carried from another laptop of the station into this
    keychain (every generation, in order): a key we hold takes the carried status only when
    that retires it (a file never re-activates a key retired here), a new key is added with
    its status. The carried active key becomes ours; our other keys of the institution are
    retired, so only one generation is active."""
    chain = keys.keychain
    carried_keys = carried.find("institution", keys.institution, active_only=False)
    if not any(h.status == "active" for h in carried_keys):
        raise InvalidInput(f"institution_keys: 没有机构 {keys.institution} 的有效密钥 / no active "
                           f"key of institution {keys.institution}",
                           fields={"institution_keys": "no active key"})
    newest = [h for h in carried_keys if h.status == "active"][-1].key_id
    here = chain.by_key_id(newest)
    if here is not None and here.status != "active":
        raise InvalidInput(f"institution_keys: 文件中的有效密钥 {newest} 在本机已停用（旧文件？）/ "
                           f"the file's active key {newest} was retired here (an older export?)",
                           fields={"institution_keys": "retired key"})
    added = []
    for held in carried_keys:
        mine = chain.by_key_id(held.key_id)
        if mine is None:
            chain.add(held.role, held.owner, held.key, held.status)
            added.append(held.key_id)
        elif held.status != "active":
            mine.status = held.status
    for held in chain.find("institution", keys.institution):
        if held.key_id != newest:
            chain.retire(held.key_id)
    # keep the active generation last: Keychain.active() takes the newest (last) one
    chain.keys = [h for h in chain.keys if h.key_id != newest] + [
        h for h in chain.keys if h.key_id == newest]
    save_keychain(path, chain, passphrase)
    return {"ok": True, "institution": keys.institution, "added": added, "active": newest,
            "retired": [h.key_id for h in chain.find("institution", keys.institution,
                                                     active_only=False)
                        if h.status != "active"]}
