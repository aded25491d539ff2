"""``PUT /v1/shops/{code}``: what is checked before a shop is stored."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StrictBool, StringConstraints, model_validator

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")]
Secret = Annotated[SecretStr, Field(min_length=1, max_length=500)]
HttpUrl = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^https?://[^\s/]+(/\S*)?$", max_length=500)]
SHOPIFY_API_VERSION = r"^20[0-9]{2}-(01|04|07|10)$"


class ShopOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tracking_url_templates: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=100)],
        Annotated[str, StringConstraints(pattern=r"^https?://\S*\{number\}\S*$", max_length=500)],
    ] = Field(
        default_factory=dict,
        description='A tracking link for carriers the platform does not know: {"Acme Freight": "https://acme.example/t/{number}"}.',
    )
    location_id: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Shopify: the location whose stock is set (default: the shop's first active one)."
    )
    notify_customer: StrictBool = Field(
        default=True, description="Whether the platform e-mails the customer a shipment, when the notice does not say."
    )


class ShopRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    platform: Literal["shopify", "woocommerce"]
    channel: Code = Field(description="The intake channel its orders arrive on (created when missing).")
    base_url: HttpUrl = Field(description="Where the platform's API lives: https://acme.myshopify.com.")
    access_token: Secret | None = Field(default=None, description="Shopify: the Admin API access token.")
    consumer_key: Secret | None = Field(default=None, description="WooCommerce: the REST API consumer key.")
    consumer_secret: Secret | None = Field(default=None, description="WooCommerce: the REST API consumer secret.")
    webhook_secret: Secret | None = Field(
        default=None, description="What the platform signs webhooks with (Shopify: the app's client secret)."
    )
    push_stock: StrictBool = True
    api_version: Annotated[str, StringConstraints(pattern=SHOPIFY_API_VERSION)] | None = Field(
        default=None, description="Shopify's Admin API version (default: the current stable one)."
    )
    options: ShopOptions = Field(default_factory=ShopOptions)

    @model_validator(mode="after")
    def _platform_fields(self) -> ShopRequest:
        foreign = ("consumer_key", "consumer_secret") if self.platform == "shopify" else ("access_token", "api_version")
        given = [name for name in foreign if getattr(self, name) is not None]
        if given:
            raise ValueError(f"{', '.join(given)} belong to another platform than {self.platform}")
        return self

    def secrets(self) -> dict[str, str]:
        """The secrets given in this request (a secret left out keeps its stored value)."""
        names = ("access_token", "consumer_key", "consumer_secret", "webhook_secret")
        return {name: value.get_secret_value() for name in names if (value := getattr(self, name)) is not None}
