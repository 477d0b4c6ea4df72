import datetime
from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.get_utilization_report_group_by import GetUtilizationReportGroupBy
from ...models.utilization import Utilization
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    from_: datetime.datetime,
    to: datetime.datetime,
    room_id: UUID | Unset = UNSET,
    building: str | Unset = UNSET,
    group_by: GetUtilizationReportGroupBy | Unset = GetUtilizationReportGroupBy.ROOM,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to = to.isoformat()
    params["to"] = json_to

    json_room_id: str | Unset = UNSET
    if not isinstance(room_id, Unset):
        json_room_id = str(room_id)
    params["room_id"] = json_room_id

    params["building"] = building

    json_group_by: str | Unset = UNSET
    if not isinstance(group_by, Unset):
        json_group_by = group_by.value

    params["group_by"] = json_group_by

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/reports/utilization",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Utilization:
    if response.status_code == 200:
        response_200 = Utilization.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 414:
        response_414 = Error.from_dict(response.json())

        return response_414

    if response.status_code == 422:
        response_422 = Error.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if response.status_code == 431:
        response_431 = Error.from_dict(response.json())

        return response_431

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    response_default = Error.from_dict(response.json())

    return response_default


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Utilization]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.datetime,
    to: datetime.datetime,
    room_id: UUID | Unset = UNSET,
    building: str | Unset = UNSET,
    group_by: GetUtilizationReportGroupBy | Unset = GetUtilizationReportGroupBy.ROOM,
) -> Response[Error | Utilization]:
    """How much of the rooms' open time was booked (admins), per room, day or week.

     Open time is each room's opening hours in its own time zone (the whole day without
    them); booked time, the confirmed bookings inside it; utilization, booked / open.
    The counts are of the bookings that start in the window.

    Args:
        from_ (datetime.datetime):
        to (datetime.datetime):
        room_id (UUID | Unset):
        building (str | Unset):
        group_by (GetUtilizationReportGroupBy | Unset):  Default:
            GetUtilizationReportGroupBy.ROOM.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Utilization]
    """

    kwargs = _get_kwargs(
        from_=from_,
        to=to,
        room_id=room_id,
        building=building,
        group_by=group_by,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.datetime,
    to: datetime.datetime,
    room_id: UUID | Unset = UNSET,
    building: str | Unset = UNSET,
    group_by: GetUtilizationReportGroupBy | Unset = GetUtilizationReportGroupBy.ROOM,
) -> Error | Utilization | None:
    """How much of the rooms' open time was booked (admins), per room, day or week.

     Open time is each room's opening hours in its own time zone (the whole day without
    them); booked time, the confirmed bookings inside it; utilization, booked / open.
    The counts are of the bookings that start in the window.

    Args:
        from_ (datetime.datetime):
        to (datetime.datetime):
        room_id (UUID | Unset):
        building (str | Unset):
        group_by (GetUtilizationReportGroupBy | Unset):  Default:
            GetUtilizationReportGroupBy.ROOM.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Utilization
    """

    return sync_detailed(
        client=client,
        from_=from_,
        to=to,
        room_id=room_id,
        building=building,
        group_by=group_by,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.datetime,
    to: datetime.datetime,
    room_id: UUID | Unset = UNSET,
    building: str | Unset = UNSET,
    group_by: GetUtilizationReportGroupBy | Unset = GetUtilizationReportGroupBy.ROOM,
) -> Response[Error | Utilization]:
    """How much of the rooms' open time was booked (admins), per room, day or week.

     Open time is each room's opening hours in its own time zone (the whole day without
    them); booked time, the confirmed bookings inside it; utilization, booked / open.
    The counts are of the bookings that start in the window.

    Args:
        from_ (datetime.datetime):
        to (datetime.datetime):
        room_id (UUID | Unset):
        building (str | Unset):
        group_by (GetUtilizationReportGroupBy | Unset):  Default:
            GetUtilizationReportGroupBy.ROOM.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Utilization]
    """

    kwargs = _get_kwargs(
        from_=from_,
        to=to,
        room_id=room_id,
        building=building,
        group_by=group_by,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.datetime,
    to: datetime.datetime,
    room_id: UUID | Unset = UNSET,
    building: str | Unset = UNSET,
    group_by: GetUtilizationReportGroupBy | Unset = GetUtilizationReportGroupBy.ROOM,
) -> Error | Utilization | None:
    """How much of the rooms' open time was booked (admins), per room, day or week.

     Open time is each room's opening hours in its own time zone (the whole day without
    them); booked time, the confirmed bookings inside it; utilization, booked / open.
    The counts are of the bookings that start in the window.

    Args:
        from_ (datetime.datetime):
        to (datetime.datetime):
        room_id (UUID | Unset):
        building (str | Unset):
        group_by (GetUtilizationReportGroupBy | Unset):  Default:
            GetUtilizationReportGroupBy.ROOM.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Utilization
    """

    return (
        await asyncio_detailed(
            client=client,
            from_=from_,
            to=to,
            room_id=room_id,
            building=building,
            group_by=group_by,
        )
    ).parsed
