"""A vendor's connection: how its orders reach it and how its answers come back (``PUT
/v1/connections/{vendor}``). Pure models and rules, no I/O.

A vendor's kind fixes the pairing it accepts (:data:`KIND_PAIRINGS`). Secrets (a webhook secret, an
SFTP password or private key) arrive in the request, are sealed apart from the settings
(:class:`ConnectionSecrets`) and are never answered again; :meth:`Connection.view` shows the rest.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.gateway.formats.csv_profile import CsvProfile

Transport = Literal["webhook", "sftp", "email"]
Format = Literal["json", "csv", "x12"]

KIND_PAIRINGS: dict[str, tuple[Transport, Format]] = {
    "webhook": ("webhook", "json"),
    "csv_sftp": ("sftp", "csv"),
    "edi_x12": ("sftp", "x12"),
    "email": ("email", "csv"),
}
"""The one connection each vendor kind accepts; ShipStation vendors connect to the ShipStation adapter."""


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(pattern=r"^https?://[^\s]+$", max_length=2000)
    secret: str | None = Field(default=None, min_length=16, max_length=200, description="Generated when omitted.")


class InboundFolders(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shipments: str | None = None
    inventory: str | None = None
    acknowledgements: str | None = None

    def folders(self) -> dict[str, str]:
        """Each inbound kind the vendor uses and its folder."""
        return {kind: folder for kind, folder in self.model_dump().items() if folder}


class SftpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1, max_length=100)
    password: str | None = Field(default=None, max_length=1000)
    private_key: str | None = Field(default=None, max_length=20000)
    host_key: str = Field(
        min_length=16, max_length=5000, description="`ssh-ed25519 AAAA…`: required, no trust on first use."
    )
    outbound_dir: str = "/orders"
    inbound: InboundFolders = Field(default_factory=InboundFolders)
    poll_seconds: int = Field(default=300, ge=1, le=86400)
    after_pickup: Literal["archive", "delete"] = "archive"

    @model_validator(mode="after")
    def _one_way_to_log_in(self) -> SftpSettings:
        if not self.password and not self.private_key:
            raise ValueError("an SFTP connection needs a password or a private_key")
        return self

    @field_validator("outbound_dir")
    @classmethod
    def _absolute(cls, value: str) -> str:
        return value.rstrip("/") or "/"


class EmailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: list[str] = Field(min_length=1, max_length=20)
    cc: list[str] = Field(default_factory=list, max_length=20)
    reply_to: str | None = None

    @field_validator("to", "cc")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        for value in values:
            if "@" not in value or any(c in value for c in " \r\n,<>"):
                raise ValueError(f"not an e-mail address: {value[:80]!r}")
        return values


class ConnectionRequest(BaseModel):
    """The body of ``PUT /v1/connections/{vendor}``."""

    model_config = ConfigDict(extra="forbid")
    transport: Transport
    format: Format
    webhook: WebhookSettings | None = None
    sftp: SftpSettings | None = None
    email: EmailSettings | None = None
    csv: CsvProfile | None = None
    x12: dict[str, Any] | None = Field(default=None, description="The trading partner's settings (EDI X12).")

    @model_validator(mode="after")
    def _settings_for_the_transport(self) -> ConnectionRequest:
        given = {"webhook": self.webhook, "sftp": self.sftp, "email": self.email}
        if given[self.transport] is None:
            raise ValueError(f"transport {self.transport} needs its {self.transport!r} settings")
        others = [name for name, value in given.items() if value is not None and name != self.transport]
        if others:
            raise ValueError(f"settings for another transport: {', '.join(others)}")
        return self


class WrongKind(ValueError):
    def __init__(self, vendor: str, kind: str, transport: str, format_: str) -> None:
        expected = KIND_PAIRINGS.get(kind)
        wanted = f"{expected[0]}/{expected[1]}" if expected else "none (connect it to the ShipStation adapter)"
        super().__init__(f"vendor {vendor} is of kind {kind}: it takes {wanted}, not {transport}/{format_}")


def check_pairing(vendor: str, kind: str, request: ConnectionRequest) -> None:
    if KIND_PAIRINGS.get(kind) != (request.transport, request.format):
        raise WrongKind(vendor, kind, request.transport, request.format)


class ConnectionSecrets(BaseModel):
    """What is sealed apart from the settings (one sealed JSON per connection)."""

    webhook_secret: str | None = None
    sftp_password: str | None = None
    sftp_private_key: str | None = None


def split_secrets(request: ConnectionRequest, webhook_secret: str | None) -> tuple[dict[str, Any], ConnectionSecrets]:
    """The settings to store in the open (secrets removed) and the secrets to seal.

    ``webhook_secret``: the one to use when the request names none (generated by the caller)."""
    settings = request.model_dump(mode="json", exclude_none=True)
    secrets = ConnectionSecrets()
    if request.webhook is not None:
        secrets.webhook_secret = request.webhook.secret or webhook_secret
        settings["webhook"].pop("secret", None)
    if request.sftp is not None:
        secrets.sftp_password = request.sftp.password
        secrets.sftp_private_key = request.sftp.private_key
        settings["sftp"].pop("password", None)
        settings["sftp"].pop("private_key", None)
    return settings, secrets


class Connection(BaseModel):
    """A stored connection with its secrets opened: what the transports are built from."""

    vendor: str
    transport: Transport
    format: Format
    webhook: WebhookSettings | None = None
    sftp: SftpSettings | None = None
    email: EmailSettings | None = None
    csv: CsvProfile = Field(default_factory=CsvProfile)
    x12: dict[str, Any] | None = None

    @classmethod
    def assemble(cls, vendor: str, settings: dict[str, Any], secrets: ConnectionSecrets) -> Connection:
        values = {key: value for key, value in settings.items() if value is not None}
        if "webhook" in values:
            values["webhook"] = {**values["webhook"], "secret": secrets.webhook_secret}
        if "sftp" in values:
            values["sftp"] = {
                **values["sftp"],
                "password": secrets.sftp_password,
                "private_key": secrets.sftp_private_key,
            }
        return cls(vendor=vendor, **values)

    def view(self) -> dict[str, Any]:
        """The settings without a secret in them (what the API answers after creation)."""
        shown = self.model_dump(mode="json", exclude_none=True, exclude={"vendor"})
        if "webhook" in shown:
            shown["webhook"].pop("secret", None)
            shown["webhook"]["has_secret"] = bool(self.webhook and self.webhook.secret)
        if "sftp" in shown:
            shown["sftp"].pop("password", None)
            shown["sftp"].pop("private_key", None)
            shown["sftp"]["login"] = "private_key" if self.sftp and self.sftp.private_key else "password"
        return shown
