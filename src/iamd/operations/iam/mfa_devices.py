"""IAM virtual MFA device operations: create, enable, resync, deactivate, delete, list,
get and tag.

Authorization follows the Service Authorization Reference: the device's own ARN
(`mfa{path}{name}`) for the device operations, the user's ARN for the operations that
tie a device to a user, `*` for ListVirtualMFADevices.
"""

from __future__ import annotations

from typing import Any

from iamd.model.mfa_devices import AssignmentStatus, VirtualMFADevice
from iamd.operations.iam.shapes import (
    EMPTY_PAGE,
    about_root_user,
    max_items,
    paged,
    tags_from_params,
    tags_shape,
    user_shape,
)
from iamd.operations.iam.tag_operations import tag_operations
from iamd.operations.registry import (
    CallContext,
    Operation,
    Params,
    Result,
    any_resource,
    new_entity_resource,
    user_resource,
)
from iamd.services.users import target_user_name


def serial_number_resource(_ctx: CallContext, params: Params) -> str:
    """A virtual device's serial number is its ARN, the resource AWS authorizes."""
    return str(params["SerialNumber"])


def _virtual_device_shape(device: VirtualMFADevice) -> dict[str, Any]:
    # ListVirtualMFADevices leaves out the seed, the QR code and the tags, as AWS's does.
    shape: dict[str, Any] = {"SerialNumber": device.serial_number}
    if device.user is not None:
        shape["User"] = user_shape(device.user, full=False)
    if device.enable_date is not None:
        shape["EnableDate"] = device.enable_date
    return shape


def _user_device_shape(device: VirtualMFADevice) -> dict[str, Any]:
    assert device.user is not None  # only devices enabled for a user are listed
    return {
        "UserName": device.user.name,
        "SerialNumber": device.serial_number,
        "EnableDate": device.enable_date,
    }


def create_virtual_mfa_device(ctx: CallContext, p: Params) -> Result:
    new = ctx.services.mfa_devices.create(
        p["VirtualMFADeviceName"], p.get("Path", "/"), tags_from_params(p.get("Tags"))
    )
    shape: dict[str, Any] = {
        "SerialNumber": new.device.serial_number,
        # Both are blobs of the model: the codec sends them base64-encoded.
        "Base32StringSeed": new.base32_seed.encode("ascii"),
        "QRCodePNG": new.qr_code_png,
    }
    if new.device.tags:
        shape["Tags"] = tags_shape(new.device.tags)
    return {"VirtualMFADevice": shape}


def enable_mfa_device(ctx: CallContext, p: Params) -> Result:
    ctx.services.mfa_devices.enable(
        p["UserName"], p["SerialNumber"], p["AuthenticationCode1"], p["AuthenticationCode2"]
    )
    return None


def resync_mfa_device(ctx: CallContext, p: Params) -> Result:
    ctx.services.mfa_devices.resync(
        p["UserName"], p["SerialNumber"], p["AuthenticationCode1"], p["AuthenticationCode2"]
    )
    return None


def deactivate_mfa_device(ctx: CallContext, p: Params) -> Result:
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    ctx.services.mfa_devices.deactivate(user_name, p["SerialNumber"])
    return None


def delete_virtual_mfa_device(ctx: CallContext, p: Params) -> Result:
    ctx.services.mfa_devices.delete(p["SerialNumber"])
    return None


def list_mfa_devices(ctx: CallContext, p: Params) -> Result:
    if about_root_user(ctx.caller, p):
        return paged(EMPTY_PAGE, "MFADevices", _user_device_shape)
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    page = ctx.services.mfa_devices.of_user(user_name, p.get("Marker"), max_items(p))
    return paged(page, "MFADevices", _user_device_shape)


def list_virtual_mfa_devices(ctx: CallContext, p: Params) -> Result:
    # No AssignmentStatus lists every device (the model's documentation), as Any does.
    status = AssignmentStatus(p.get("AssignmentStatus", AssignmentStatus.ANY.value))
    page = ctx.services.mfa_devices.listing(status, p.get("Marker"), max_items(p))
    return paged(page, "VirtualMFADevices", _virtual_device_shape)


def get_mfa_device(ctx: CallContext, p: Params) -> Result:
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    device = ctx.services.mfa_devices.get(user_name, p["SerialNumber"])
    return _user_device_shape(device)


OPERATIONS = (
    Operation(
        "iam",
        "CreateVirtualMFADevice",
        create_virtual_mfa_device,
        new_entity_resource("mfa", "VirtualMFADeviceName"),
    ),
    Operation("iam", "EnableMFADevice", enable_mfa_device, user_resource),
    Operation("iam", "ResyncMFADevice", resync_mfa_device, user_resource),
    Operation("iam", "DeactivateMFADevice", deactivate_mfa_device, user_resource),
    Operation("iam", "DeleteVirtualMFADevice", delete_virtual_mfa_device, serial_number_resource),
    Operation("iam", "ListMFADevices", list_mfa_devices, user_resource),
    Operation("iam", "ListVirtualMFADevices", list_virtual_mfa_devices, any_resource),
    Operation("iam", "GetMFADevice", get_mfa_device, user_resource),
    *tag_operations(
        "MFADevice",
        "SerialNumber",
        lambda services: services.mfa_devices.tags,
        serial_number_resource,
    ),
)
