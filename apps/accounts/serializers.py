from __future__ import annotations

from rest_framework import serializers


class PasswordSerializer(serializers.Serializer):
    # Blank passes here: setup judges it by the password rule and login asks for one, in the same words as the
    # other problems (not "password: This field may not be blank.").
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, allow_blank=True, style={"input_type": "password"}
    )


class LoginResponseSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_at = serializers.DateTimeField()


class AuthStatusSerializer(serializers.Serializer):
    setup_complete = serializers.BooleanField()
    authenticated = serializers.BooleanField()
    username = serializers.CharField(allow_null=True)
    auth_method = serializers.CharField(allow_null=True)
