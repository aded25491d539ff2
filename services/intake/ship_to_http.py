"""``POST /v1/orders/{id}/ship_to`` beside the rest of the channel API: authenticated like every order
route (the order's channel key, or the admin token), the body checked like an order's ``ship_to``."""

from __future__ import annotations

from aiohttp import web

from services.intake.change_ship_to import ShipToDatabase, change_ship_to
from services.intake.domain import AddressIn, IntakeError
from services.intake.http import IntakeApi, _api_error
from services.intake.ship_to import ShipToClosed
from shared.http import ApiError, json_response, read_model


class IntakeApiWithShipTo(IntakeApi):
    """:class:`IntakeApi` and the ship-to route, on a database that can change ship-tos
    (:class:`services.intake.ship_to_repository.PostgresShipToDatabase`)."""

    db: ShipToDatabase

    def routes(self) -> list[web.RouteDef]:
        return [*super().routes(), web.post("/v1/orders/{order_id}/ship_to", self.change_ship_to)]

    async def change_ship_to(self, request: web.Request) -> web.Response:
        try:
            caller = await self._caller(request)
            address = await read_model(request, AddressIn)
            answer = await change_ship_to(
                self.db,
                self.progress,
                request.match_info["order_id"],
                caller,
                address,
                outbox_written=self.outbox_written,
            )
        except ShipToClosed as error:
            raise ApiError(409, "ship_to_closed", str(error)) from None
        except IntakeError as error:
            raise _api_error(error) from None
        return json_response(answer.body, status=202 if answer.changed else 200)
